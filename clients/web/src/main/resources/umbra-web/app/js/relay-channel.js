// The relay channel from the page (docs/relay.md; docs/web.md "Agent sessions"): what the CLI's
// ChannelOpener and SecureChannel do, over one WebSocket to the relay. The page is the Noise IK
// initiator towards the daemon's static key the caller pinned; message 1 carries the page's time
// (umbra-relay-client-auth/v2, docs/relay.md "Message 1": the daemon refuses it more than 5 minutes
// off) and, under Workspace Protection, this device's credential and its Ed25519 signature binding
// the Noise static key to the workspace and machine (ClientAuth). Every DATA carries its Noise counter as sequence;
// only the next one is decrypted, duplicates are acknowledged again, a gap asks the daemon to
// resend (RESUME gap); every ciphertext is kept until acknowledged and resent byte for byte on
// RESUME. A DATA that does not authenticate or parse closes the channel. The relay sees frames'
// envelopes and ciphertext only.

import { canonicalize } from './canonical-json.js';
import { Handshake, IK, IK_PSK2, NoiseError, relayPrologue } from './noise.js';
import { decodeMessage, encodeMessage } from './proto.js';
import { signText } from './signatures.js';
import { toHex } from './bytes.js';

export const RelayFrameType = Object.freeze({ OPEN: 3, ACCEPT: 4, DATA: 5, ACK: 6, RESUME: 7, CLOSE: 8, ERROR: 9 });
export const ChannelStream = Object.freeze({ AGENT: 6 });
export const BROWSER_PROTOCOL = 'umbra.relay.v1';
const OPEN_TIMEOUT_MS = 15000;
const ACK_DELAY_MS = 5;
const RESEND_AFTER_MS = 1500;
const KEEPALIVE_MS = 15000;
const SILENCE_LIMIT_MS = 90000;
const GAP_INTERVAL_MS = 200;
const WINDOW_BYTES = 2 * 1024 * 1024;
const MAX_FRAME_BYTES = 73728;

const RELAY_FRAME = {
  1: ['type', 'u'],
  2: ['workspace_id', 's'],
  3: ['target_id', 's'],
  4: ['channel_id', 'f64'],
  5: ['sequence', 'u'],
  6: ['ack', 'u'],
  7: ['payload', 'b'],
  8: ['reason', 's'],
};
const AGENT_OPEN = {
  1: ['start', { 1: ['runtime', 's'] }],
  2: ['attach', { 1: ['session_id', 's'], 2: ['from_seq', 'u'] }],
  3: ['list', {}],
  4: ['transcript', { 1: ['session_id', 's'], 2: ['from_seq', 'u'], 3: ['limit', 'u'] }],
};
const CHANNEL_MESSAGE = {
  1: ['start', { 4: ['agent', AGENT_OPEN] }],
  2: ['data', { 1: ['stream', 'u'], 2: ['bytes', 'b'] }],
  3: ['end', { 1: ['stream', 'u'] }],
  4: ['exit', { 1: ['code', 'i32'] }],
  5: ['error', { 1: ['code', 's'], 2: ['message', 's'] }],
  6: ['started', { 1: ['session_id', 's'] }],
};

export function encodeRelayFrame(f) {
  return encodeMessage(f, RELAY_FRAME);
}
export function decodeRelayFrame(bytes) {
  return decodeMessage(bytes, RELAY_FRAME);
}
export function encodeChannelMessage(m) {
  return encodeMessage(m, CHANNEL_MESSAGE);
}
export function decodeChannelMessage(bytes) {
  return decodeMessage(bytes, CHANNEL_MESSAGE);
}

/** A channel that ended: `reason` is a ChannelReason or RelayReason wire string. */
export class ChannelClosed extends Error {
  constructor(reason, message) {
    super(message || 'the channel was closed: ' + reason);
    this.reason = reason;
  }
}

const REFUSALS = {
  unknown_target: 'the machine is not connected to the relay (is its daemon running?)',
  handshake_failed: 'the machine refused the handshake (a different key or PSK)',
  replayed_handshake: 'the machine refused the handshake as a replay',
  handshake_stale: 'the machine refused the handshake: its time is more than 5 minutes behind the machine\'s (check this computer\'s clock)',
  handshake_future: 'the machine refused the handshake: its time is more than 5 minutes ahead of the machine\'s (check this computer\'s clock)',
  handshake_time_missing: 'the machine refused the handshake as carrying no time: this page is older than the machine\'s daemon (reload it)',
  no_device_credential: 'the machine requires a trusted device (Workspace Protection)',
  device_not_trusted: 'the machine refused this device: the workspace key never signed its current credential',
  device_revoked: 'the machine refused this device: it was revoked',
  static_key_not_bound: 'the machine refused the channel: the channel key is not bound to this device',
  decrypt_failed: 'a message failed authentication: the channel was tampered with and is closed',
  unknown_channel: 'the machine no longer has this session (it restarted or forgot it)',
  peer_gone: 'nothing was heard from the other side for too long; the channel is closed',
};

/** Message 1's payload type (HandshakePayload.TYPE in clients/core). */
export const CLIENT_AUTH_TYPE = 'umbra-relay-client-auth/v2';

/**
 * The device's proof under Workspace Protection (ClientAuth), members of message 1's payload: the
 * device's credential as served and its Ed25519 signature over
 * {"type":"umbra-relay-client-static/v1", workspace, target, static key}.
 */
export async function deviceProof(credential, signingKey, workspaceId, targetId, staticPublicRaw) {
  const binding = canonicalize({
    type: 'umbra-relay-client-static/v1',
    workspace_id: workspaceId,
    target_id: targetId,
    noise_static_key: toHex(staticPublicRaw),
  });
  return {
    credential: { payload: credential.payload, signature: credential.signature },
    static_key_signature: await signText(signingKey, binding),
  };
}

/**
 * Message 1's payload (docs/relay.md "Message 1"): canonical JSON of the type, `timeMillis` (unix
 * ms, this page's clock) and the device's `proof` when there is one.
 */
export function handshakePayload(timeMillis, proof) {
  if (!Number.isSafeInteger(timeMillis)) throw new Error('message 1 needs an integer time');
  return new TextEncoder().encode(canonicalize({ type: CLIENT_AUTH_TYPE, time: timeMillis, ...(proof || {}) }));
}

function randomChannelId() {
  const b = new Uint8Array(8);
  for (;;) {
    crypto.getRandomValues(b);
    const id = new DataView(b.buffer).getBigUint64(0, true);
    if (id !== 0n) return id;
  }
}

/**
 * One WebSocket to the relay with this page's channels. `options`: {url (the relay's ws(s) URL of
 * /v1/relay), token (a relay session token, offered as a subprotocol; the relay reads it only from
 * this page's origin and does not echo it), workspaceId, staticKey ({privateKey, publicRaw}: the
 * page's Noise static key), psk (32 bytes or null), proofFor(target) (the device's proof for
 * message 1, or null without Workspace Protection), now() (unix ms; default Date.now)}.
 */
export class RelayConnection {
  constructor(options) {
    this.o = options;
    this.pending = new Map();
    this.channels = new Map();
    this.inbound = Promise.resolve();
  }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.o.url, [BROWSER_PROTOCOL, 'umbra.bearer.' + this.o.token]);
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      ws.onopen = () => {
        if (ws.protocol !== BROWSER_PROTOCOL) {
          ws.close();
          reject(new Error('the relay did not select ' + BROWSER_PROTOCOL));
          return;
        }
        resolve(this);
      };
      ws.onerror = () => reject(new Error('the relay refused the connection'));
      ws.onclose = () => this.lost();
      ws.onmessage = (ev) => {
        if (!(ev.data instanceof ArrayBuffer) || ev.data.byteLength > MAX_FRAME_BYTES) return;
        let f;
        try {
          f = decodeRelayFrame(new Uint8Array(ev.data));
        } catch (e) {
          return; // not a relay frame: ignored, as the CLI's client does with garbage
        }
        this.inbound = this.inbound.then(() => this.onFrame(f)).catch(() => {});
      };
    });
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeRelayFrame(frame));
  }

  lost() {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ChannelClosed('relay_lost', 'the connection to the relay was lost'));
    }
    this.pending.clear();
    for (const c of [...this.channels.values()]) c.fail('relay_lost', 'the connection to the relay was lost');
  }

  close() {
    for (const c of [...this.channels.values()]) c.close();
    if (this.ws) this.ws.close();
  }

  /**
   * Opens a channel to `target`, whose static key `daemonKey` (32 bytes) the caller pinned, and
   * sends `start` (a ChannelStart object) first. Resolves with the Channel once the daemon's
   * message 2 verified; fails with ChannelClosed when refused, on a handshake that does not verify,
   * or after 15 s.
   */
  async open(target, daemonKey, start, listener) {
    const hs = new Handshake({
      protocol: this.o.psk ? IK_PSK2 : IK,
      initiator: true,
      s: this.o.staticKey,
      rs: daemonKey,
      prologue: relayPrologue(this.o.workspaceId, target),
      psk: this.o.psk || undefined,
    });
    const proof = this.o.proofFor ? await this.o.proofFor(target) : null;
    const m1 = await hs.writeMessage(handshakePayload((this.o.now || Date.now)(), proof));
    const id = randomChannelId();
    const accepted = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChannelClosed('timeout', 'the machine did not answer within 15 s'));
      }, OPEN_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
    });
    this.send({ type: RelayFrameType.OPEN, workspace_id: this.o.workspaceId, target_id: target, channel_id: id, payload: m1 });
    const f = await accepted;
    let transport;
    try {
      await hs.readMessage(f.payload || new Uint8Array(0));
      transport = await hs.split();
    } catch (e) {
      if (!(e instanceof NoiseError)) throw e;
      this.send({ type: RelayFrameType.CLOSE, workspace_id: this.o.workspaceId, target_id: target, channel_id: id, reason: 'handshake_failed' });
      throw new ChannelClosed('handshake_failed', 'the machine\'s handshake answer did not verify: refusing to talk to it');
    }
    const c = new Channel(this, target, id, transport, listener);
    this.channels.set(id, c);
    await c.send({ start });
    return c;
  }

  async onFrame(f) {
    const id = f.channel_id;
    if (id === undefined || f.workspace_id !== this.o.workspaceId) return;
    const p = this.pending.get(id);
    if (p) {
      if (f.type === RelayFrameType.ACCEPT) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.resolve(f);
      } else if (f.type === RelayFrameType.CLOSE || f.type === RelayFrameType.ERROR) {
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new ChannelClosed(f.reason || 'closed', REFUSALS[f.reason] || 'the channel was refused: ' + (f.reason || 'closed')));
      }
      return;
    }
    const c = this.channels.get(id);
    if (c && f.type !== RelayFrameType.ERROR) await c.onFrame(f);
  }
}

/**
 * An established channel. `listener`: {message(m) for each ChannelMessage in order, closed(error)
 * once: null for a normal close}.
 */
export class Channel {
  constructor(conn, target, id, transport, listener) {
    this.conn = conn;
    this.target = target;
    this.id = id;
    this.noise = transport;
    this.listener = listener;
    this.unacked = [];
    this.unackedBytes = 0;
    this.recvNext = 0;
    this.highestSeen = -1;
    this.ackTimer = null;
    this.lastGap = 0;
    this.closed = false;
    this.sending = Promise.resolve();
    this.lastHeard = Date.now();
    this.lastSent = Date.now();
    this.lastProgress = Date.now();
    this.timer = setInterval(() => this.checkProgress(), RESEND_AFTER_MS / 2);
  }

  frame(type, more) {
    return Object.assign({ type, workspace_id: this.conn.o.workspaceId, target_id: this.target, channel_id: this.id }, more);
  }

  /** Encrypts and sends one ChannelMessage object, in call order; false once the window is full. */
  send(message) {
    const bytes = encodeChannelMessage(message);
    const done = this.sending.then(async () => {
      if (this.closed) return false;
      const seq = Number(this.noise.sentCount);
      const ct = await this.noise.encrypt(bytes);
      const f = this.frame(RelayFrameType.DATA, { sequence: seq, ack: this.recvNext, payload: ct });
      if (this.unacked.length === 0) this.lastProgress = Date.now();
      this.unacked.push(f);
      this.unackedBytes += ct.length;
      this.lastSent = Date.now();
      this.conn.send(f);
      return this.unackedBytes < WINDOW_BYTES;
    });
    this.sending = done.catch(() => {});
    return done;
  }

  /** One agent session frame (a JSON object) on STREAM_AGENT. */
  sendAgent(frame) {
    return this.send({ data: { stream: ChannelStream.AGENT, bytes: new TextEncoder().encode(JSON.stringify(frame)) } });
  }

  async onFrame(f) {
    if (this.closed) return;
    this.lastHeard = Date.now();
    if (f.type === RelayFrameType.DATA) {
      this.acked(f.ack || 0);
      await this.onData(f);
    } else if (f.type === RelayFrameType.ACK) {
      this.acked(f.ack || 0);
    } else if (f.type === RelayFrameType.RESUME) {
      this.acked(f.ack || 0);
      for (const u of this.unacked) this.conn.send(Object.assign({}, u, { ack: this.recvNext }));
      this.lastProgress = Date.now();
      if (f.reason !== 'reply' && f.reason !== 'gap') {
        this.conn.send(this.frame(RelayFrameType.RESUME, { ack: this.recvNext, sequence: Number(this.noise.sentCount), reason: 'reply' }));
      }
    } else if (f.type === RelayFrameType.CLOSE) {
      const r = f.reason || '';
      this.finish(r === '' || r === 'done' ? null : new ChannelClosed(r, REFUSALS[r]));
    }
  }

  async onData(f) {
    const seq = f.sequence || 0;
    this.highestSeen = Math.max(this.highestSeen, seq);
    if (seq < this.recvNext) {
      this.scheduleAck();
      return;
    }
    if (seq > this.recvNext) {
      this.requestGap();
      return;
    }
    let plain;
    try {
      plain = await this.noise.decrypt(f.payload || new Uint8Array(0));
    } catch (e) {
      this.fail('decrypt_failed');
      return;
    }
    this.recvNext++;
    let m;
    try {
      m = decodeChannelMessage(plain);
    } catch (e) {
      this.fail('malformed_message');
      return;
    }
    if (this.recvNext <= this.highestSeen) this.requestGap();
    this.scheduleAck();
    try {
      this.listener.message(m, this);
    } catch (e) {
      this.fail('malformed_message', e.message);
    }
  }

  requestGap() {
    const now = Date.now();
    if (now - this.lastGap < GAP_INTERVAL_MS) return; // the progress check asks again
    this.lastGap = now;
    this.conn.send(this.frame(RelayFrameType.RESUME, { ack: this.recvNext, sequence: Number(this.noise.sentCount), reason: 'gap' }));
  }

  acked(ack) {
    let progress = false;
    while (this.unacked.length && this.unacked[0].sequence < ack) {
      this.unackedBytes -= this.unacked.shift().payload.length;
      progress = true;
    }
    if (progress) this.lastProgress = Date.now();
  }

  scheduleAck() {
    if (this.ackTimer !== null) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      if (this.closed) return;
      this.lastSent = Date.now();
      this.conn.send(this.frame(RelayFrameType.ACK, { ack: this.recvNext }));
    }, ACK_DELAY_MS);
  }

  checkProgress() {
    if (this.closed) return;
    const now = Date.now();
    if (now - this.lastHeard > SILENCE_LIMIT_MS) {
      this.fail('peer_gone');
      return;
    }
    if (now - this.lastSent > KEEPALIVE_MS) {
      this.lastSent = now;
      this.conn.send(this.frame(RelayFrameType.ACK, { ack: this.recvNext }));
    }
    if (this.recvNext <= this.highestSeen) this.requestGap();
    if (this.unacked.length && now - this.lastProgress > RESEND_AFTER_MS) {
      this.lastProgress = now;
      this.conn.send(this.frame(RelayFrameType.RESUME, { ack: this.recvNext, sequence: Number(this.noise.sentCount) }));
    }
  }

  /** Ends the channel normally: the daemon is told (CLOSE done). */
  close() {
    if (this.closed) return;
    this.conn.send(this.frame(RelayFrameType.CLOSE, { reason: 'done' }));
    this.finish(null);
  }

  /** Ends the channel with a channel reason, telling the daemon. */
  fail(reason, message) {
    if (this.closed) return;
    if (reason !== 'relay_lost') this.conn.send(this.frame(RelayFrameType.CLOSE, { reason }));
    this.finish(new ChannelClosed(reason, message || REFUSALS[reason]));
  }

  finish(error) {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.conn.channels.delete(this.id);
    this.listener.closed(error, this);
  }
}
