// A WebTTY v2 client in the page (docs/webtty.md, docs/web.md "Terminal"): opens a session on a
// machine or joins one as a viewer, end to end. The engine routes frames it cannot read: the page
// verifies the machine's signed hello against the machine record and this browser's pin, makes the
// session's output and input keys, grants them with HPKE, signs its ClientProof with this device's
// Ed25519 key (the key its workspace credential names), and seals every keystroke under the input
// key. Frames are handled one at a time in arrival order (WebCrypto is asynchronous).

import { equalBytes, fromHex, toHex, utf8 } from './bytes.js';
import { canonicalize, parseCanonical } from './canonical-json.js';
import { Counters, KEY_ENVELOPE_SUITE, PAYLOAD_SUITE, PayloadCipher, keyContextText, keyId, unwrapGrant, wrapGrant } from './webtty-crypto.js';
import { FrameType, Role, Stream, decodeFrame, encodeFrame } from './proto.js';
import { continuity, epochContextText, verifyEpoch } from './webtty-epochs.js';
import { ATTEMPT_MS, CONNECT_MS, EngineFailover } from './webtty-failover.js';

export const SUBPROTOCOL = 'umbra.webtty.v2';
export const BEARER_PREFIX = 'umbra.bearer.';
export const CLIENT_PATH = '/v1/webtty/client';
const HELLO_TYPE = 'umbra-webtty-server-hello/v2';
const PROOF_TYPE = 'umbra-webtty-client-proof/v2';
const INPUT_KEY_TYPE = 'umbra-webtty-input-key/v2';
const PROOF_WINDOW_MS = 30_000;
const SHARE_TYPE = 'umbra-webtty-share/v2';
const MAX_PLAINTEXT = 64 * 1024;
const STREAMS = { [Stream.STDOUT]: 'stdout', [Stream.STDERR]: 'stderr' };
const MAX_DOCUMENT = 16 * 1024;

export class WebTtyError extends Error {
  constructor(reason, message) {
    super(message || reason);
    this.reason = reason;
  }
}

const text = new TextDecoder('utf-8', { fatal: true });

async function ed25519Verify(publicHex, bytes, signature) {
  try {
    const key = await crypto.subtle.importKey('raw', fromHex(publicHex), { name: 'Ed25519' }, false, ['verify']);
    return signature.length === 64 && (await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, bytes));
  } catch (e) {
    return false;
  }
}

/** The members of a signed document (SignedMessage) whose canonical bytes `signerHex` signed. */
export async function signedDocument(m, type, signerHex) {
  if (!m || !m.canonical_json || !m.signature || m.canonical_json.length > MAX_DOCUMENT) {
    throw new WebTtyError('authentication_failed', 'a signed ' + type + ' document is missing or too large');
  }
  let doc;
  try {
    doc = parseCanonical(text.decode(m.canonical_json));
  } catch (e) {
    throw new WebTtyError('authentication_failed', 'a ' + type + ' document is not canonical JSON');
  }
  if (!doc || doc.type !== type) throw new WebTtyError('authentication_failed', 'not a ' + type + ' document');
  const signer = signerHex || doc.server_signing_key || doc.client_signing_key;
  if (typeof signer !== 'string' || !(await ed25519Verify(signer, m.canonical_json, m.signature))) {
    throw new WebTtyError('authentication_failed', 'the signature of a ' + type + ' document does not verify');
  }
  return doc;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A terminal session. `opts`: url (ws(s) engine base), token (webtty-engine session token),
 * freshToken() (optional: a new one, for an engine failover's connections),
 * workspaceId, device (this browser's record: signing and webtty keys), credential (its signed
 * device credential as served), trustServer(serverId, signingHex, agreementHex) (throws unless the
 * machine record and the pin agree), and the callbacks output(bytes), state(name, detail), event(frame).
 */
export class WebTtySession {
  constructor(opts) {
    this.o = opts;
    this.chain = Promise.resolve();
    this.sendChain = Promise.resolve();
    this.sessionId = '';
    this.participantId = '';
    this.done = false;
    this.output = null; // PayloadCipher under the current output key
    this.input = null; // {cipher, counter} while we control
    this.stdinSequence = 0;
    this.counters = null;
    this.participants = new Set();
    this.epoch = 0; // output-key epoch: 0 the opener's key, each share adds one
    this.heldOutputKeys = new Set(); // hex ids of every output key this client read under
    this.recipients = []; // the current output key's recipients (key ids, hex)
    this.failover = new EngineFailover(this);
    this.lastSequence = 0; // the engine sequence of the last output read: a re-join asks for what follows
    this.lastShown = null; // the last state shown but a transient one: [name, detail]
  }

  /** Opens a shell on `serverId` of `cols` x `rows`. */
  open(serverId, cols, rows, term) {
    this.serverId = serverId;
    this.opener = true;
    this.command = { cols, rows, term: term || 'xterm-256color' };
    return this.connect({ type: FrameType.OPEN, server_id: serverId, size: { cols, rows } });
  }

  /**
   * Joins the live session `sessionId` as a viewer with this browser's WebTTY key, or (`attach`)
   * re-attaches to a session this browser opened: control comes back with the daemon's input key.
   */
  async join(sessionId, attach) {
    this.sessionId = sessionId;
    this.opener = false;
    this.attach = attach === true;
    return this.connect({
      type: attach ? FrameType.ATTACH : FrameType.JOIN,
      session_id: sessionId,
      key_id: await keyId(this.o.device.webttyPublicRaw),
      public_key: this.o.device.webttyPublicRaw,
    });
  }

  connect(first) {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.socket(first, false);
    return this.ready;
  }

  /** A WebSocket to the engine whose first frame is `first` (`rejoin`: an engine failover attempt). */
  socket(first, rejoin) {
    const ws = new WebSocket(this.o.url + CLIENT_PATH, [SUBPROTOCOL, BEARER_PREFIX + this.o.token]);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    if (rejoin) this.failover.attempted(ws, CONNECT_MS);
    ws.onopen = () => {
      if (ws.protocol !== SUBPROTOCOL) return this.finish('wrong_subprotocol');
      ws.send(encodeFrame(first));
      if (rejoin) this.failover.attempted(ws, ATTEMPT_MS);
      else this.state('connected');
    };
    ws.onmessage = (m) => {
      if (ws !== this.ws) return; // a late frame of a connection given up
      if (typeof m.data === 'string') return this.fail('text_frame');
      const at = performance.now(); // arrival: the start of this frame's way to the screen
      this.chain = this.chain.then(() => this.handle(m.data, at)).catch((e) => this.fail(e.reason || 'refused_crypto', e));
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      if (this.failover.lost(this.live === true && !this.done)) {
        if (this.failover.active) this.state('reconnecting', 'the engine connection dropped; reconnecting to the session');
        return;
      }
      this.finish(e.reason || 'disconnected');
    };
    ws.onerror = () => {
      if (!this.failover.active) this.state('error', 'the WebSocket to the engine failed');
    };
  }

  /** A fresh session token for the failover's connections (`opts.freshToken`, if given). */
  renewToken() {
    if (this.o.freshToken) this.tokenPromise = this.o.freshToken().catch(() => this.o.token);
  }

  /** Engine failover: the same session, key and counters on a new connection (docs/webtty.md). */
  async reconnect() {
    if (this.tokenPromise) {
      this.o.token = await this.tokenPromise;
      this.tokenPromise = null;
    }
    if (this.done) return;
    this.socket(
      {
        type: this.opener || this.attach ? FrameType.ATTACH : FrameType.JOIN,
        session_id: this.sessionId,
        key_id: this.myKeyId,
        public_key: this.o.device.webttyPublicRaw,
        sequence: Math.max(1, this.lastSequence), // the new home replays what follows
        time_unix_ms: this.failover.stamp(Date.now()), // newer than any attempt before
      },
      true,
    );
  }

  /** Resumed after a failover: the new participant id and participants, the state shown before, the notice. */
  resumed(joined, doc, frame) {
    this.participantId = joined.participant_id || '';
    this.participants = new Set((joined.participants || []).map((p) => p.participant_id));
    const [name, detail] = this.lastShown || ['live', this.sessionId];
    this.state(name, detail);
    this.event(frame);
  }

  state(name, detail) {
    if (name !== 'reconnecting' && name !== 'connected' && name !== 'error') this.lastShown = [name, detail];
    if (this.o.state) this.o.state(name, detail);
  }

  write(frame) {
    if (!this.done && !this.failover.hold(frame)) this.sendNow(frame);
  }

  /** Writes on the current connection, past the failover's hold. */
  sendNow(frame) {
    if (!this.done && this.ws.readyState === WebSocket.OPEN) this.ws.send(encodeFrame(frame));
  }

  async handle(data, at) {
    if (this.done) return;
    const f = decodeFrame(data);
    if ((this.failover.active || f.type === FrameType.RESUMED) && (await this.failover.onFrame(f))) return;
    switch (f.type) {
      case FrameType.SERVER_HELLO:
        return this.hello(f);
      case FrameType.READY:
        if (!this.input) return this.fail('ready_before_key_exchange');
        this.live = true;
        this.state('live', this.sessionId);
        return this.resolveReady(this);
      case FrameType.JOINED:
        return this.joined(f);
      case FrameType.DATA:
        return this.data(f, at);
      case FrameType.INPUT_KEY:
        return this.inputKey(f);
      case FrameType.OUTPUT_KEY:
        return this.outputKey(f);
      case FrameType.CONTROL_CHANGED:
        this.input = null; // our input key (if any) is retired; one naming us comes with INPUT_KEY
        this.controlPending = f.participant_id === this.participantId;
        return this.event(f);
      case FrameType.EXIT:
        this.state('exited', String(f.exit_status || 0));
        this.done = true;
        this.rejectReady(new WebTtyError('exit', 'the session ended'));
        return this.ws.close();
      case FrameType.CLOSE:
      case FrameType.ERROR:
        return this.finish(f.reason || 'closed');
      case FrameType.REFUSED:
        if (!this.live) return this.finish(f.reason || 'refused');
        return this.event(f);
      case FrameType.PARTICIPANT_JOINED:
        this.participants.add(f.participant_id);
        return this.event(f);
      case FrameType.PARTICIPANT_LEFT:
        this.participants.delete(f.participant_id);
        return this.event(f);
      default:
        return this.event(f);
    }
  }

  event(f) {
    if (this.o.event) this.o.event(f);
  }

  /** The machine's signed hello: its keys, suites and ids; then our keys and the signed proof. */
  async hello(f) {
    if (!this.opener || this.sessionId) return this.fail('unexpected_hello');
    const h = await this.trustedHello(f.server_hello, this.serverId, f.session_id);
    this.sessionId = h.session_id;
    this.participantId = f.participant_id || '';
    this.write(await this.proof(h));
  }

  async trustedHello(signed, serverId, sessionId) {
    const h = await signedDocument(signed, HELLO_TYPE);
    if (
      h.e2e !== true ||
      !same(h.payload_suites, [PAYLOAD_SUITE]) ||
      !same(h.key_envelope_suites, [KEY_ENVELOPE_SUITE]) ||
      typeof h.nonce !== 'string' ||
      h.nonce.length !== 64
    ) {
      throw new WebTtyError('authentication_failed', 'the server does not offer exactly our end-to-end suites');
    }
    if (h.workspace_id !== this.o.workspaceId || h.server_id !== serverId || h.session_id !== sessionId) {
      throw new WebTtyError('authentication_failed', 'the ServerHello is for another workspace, server or session');
    }
    await this.o.trustServer(serverId, h.server_signing_key, h.server_key);
    this.serverSigningKey = h.server_signing_key;
    this.serverKey = fromHex(h.server_key);
    this.serverKeyId = await keyId(this.serverKey);
    this.e2e = true;
    return h;
  }

  async proof(h) {
    const me = this.o.device.webttyPublicRaw;
    // the output key goes to the server, us and the trusted devices the opener chose, each vouched
    // for in the proof by its credential and WebTTY key binding (the daemon checks them under its
    // pin: proof_refused_unvouched_recipient otherwise); the input key to the server and us only
    const viewers = this.o.viewers || [];
    const recipients = [this.serverKey, me, ...viewers.map((v) => fromHex(v.x25519))];
    const ids = [];
    for (const r of recipients) ids.push(await keyId(r));
    const contextText = keyContextText(this.o.workspaceId, this.serverId, this.sessionId, ids);
    const context = utf8(contextText);
    const outputKey = crypto.getRandomValues(new Uint8Array(32));
    const outputKeyId = crypto.getRandomValues(new Uint8Array(16));
    const inputKey = crypto.getRandomValues(new Uint8Array(32));
    const inputKeyId = crypto.getRandomValues(new Uint8Array(16));
    const grants = [];
    for (const r of recipients) grants.push(await wrapGrant('output', outputKey, outputKeyId, context, r));
    for (const r of [this.serverKey, me]) grants.push(await wrapGrant('input', inputKey, inputKeyId, context, r));
    const now = Date.now();
    const doc = {
      type: PROOF_TYPE,
      workspace_id: this.o.workspaceId,
      server_id: this.serverId,
      session_id: this.sessionId,
      server_nonce: h.nonce,
      client_signing_key: this.o.device.ed25519PublicKey,
      client_key: toHex(me),
      command: this.command,
      key_context: JSON.parse(contextText),
      output_key_id: toHex(outputKeyId),
      input_key_id: toHex(inputKeyId),
      grants: grants.map((g) => ({
        recipient_key_id: toHex(g.recipient_key_id),
        key_role: g.key_role,
        payload_suite: g.payload_suite,
        key_envelope_suite: g.key_envelope_suite,
        enc: toHex(g.enc),
        ciphertext: toHex(g.ciphertext),
      })),
      not_before_ms: now,
      not_after_ms: now + PROOF_WINDOW_MS,
      device_credential: this.o.credential || null,
      recipient_devices: viewers.length ? viewers.map((v) => v.vouch) : null,
    };
    const bytes = utf8(canonicalize(doc));
    const signature = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, this.o.device.signing.privateKey, bytes));
    this.myKeyId = await keyId(me);
    this.context = context;
    this.output = await PayloadCipher.create('output', outputKey, outputKeyId, context);
    this.heldOutputKeys.add(toHex(outputKeyId));
    this.recipients = JSON.parse(contextText).recipients;
    this.counters = new Counters(false);
    this.input = { cipher: await PayloadCipher.create('input', inputKey, inputKeyId, context), counter: 0 };
    outputKey.fill(0);
    inputKey.fill(0);
    return {
      type: FrameType.CLIENT_PROOF,
      session_id: this.sessionId,
      client_proof: { canonical_json: bytes, signature },
      key_context: context,
      key_id: this.myKeyId,
      public_key: me,
      grants,
    };
  }

  /** Joined as a viewer: the hello, the opener's signed proof and our output grant inside it. */
  async joined(f) {
    this.participantId = f.participant_id || '';
    (f.participants || []).forEach((p) => this.participants.add(p.participant_id));
    this.serverId = f.server_id;
    await this.trustedHello(f.server_hello, this.serverId, this.sessionId);
    const p = await signedDocument(f.client_proof, PROOF_TYPE);
    if (p.workspace_id !== this.o.workspaceId || p.server_id !== this.serverId || p.session_id !== this.sessionId) {
      throw new WebTtyError('authentication_failed', 'the ClientProof is for another workspace, server or session');
    }
    const me = this.o.device.webttyPublicRaw;
    this.myKeyId = await keyId(me);
    this.context = utf8(canonicalize(p.key_context)); // the input keys' context (epoch 0)
    if (f.output_key_epoch) {
      // a shared session: the output key of the latest epoch, from the daemon-signed document (a
      // device a share added has no grant in the opener's proof). Whether it is the latest cannot
      // be told; an older one would not open the output that follows, which closes the connection.
      const e = await verifyEpoch(f.output_key_epoch, this.serverSigningKey, this.ids());
      await this.adoptEpoch(e);
      this.counters = new Counters(true);
      return this.joinedAs(f);
    }
    const mine = (p.grants || []).find((g) => g.key_role === 'output' && g.recipient_key_id === toHex(this.myKeyId));
    if (!mine) throw new WebTtyError('no_grant', 'the opener did not grant this browser the output key');
    const outputKeyId = fromHex(p.output_key_id);
    const key = await unwrapGrant(
      { recipient_key_id: fromHex(mine.recipient_key_id), payload_suite: mine.payload_suite, key_envelope_suite: mine.key_envelope_suite, enc: fromHex(mine.enc), ciphertext: fromHex(mine.ciphertext) },
      'output',
      outputKeyId,
      this.context,
      this.o.device.webtty.privateKey,
      me,
    );
    this.output = await PayloadCipher.create('output', key, outputKeyId, this.context);
    this.heldOutputKeys.add(toHex(outputKeyId));
    this.recipients = p.key_context.recipients;
    key.fill(0);
    this.counters = new Counters(true);
    return this.joinedAs(f);
  }

  joinedAs(f) {
    this.live = true;
    if (f.role === Role.CONTROLLER) {
      // re-attached with control: ready once the daemon's fresh input key for us arrived
      this.controlPending = true;
      this.state('attached', this.sessionId);
      return;
    }
    this.state('viewing', this.sessionId);
    this.resolveReady(this);
  }

  /** The daemon's fresh input key after control came to us: signed by the pinned server key. */
  async inputKey(f) {
    if (!this.output) return this.fail('input_key_before_key_exchange');
    const g = await signedDocument(f.input_key_grant, INPUT_KEY_TYPE, this.serverSigningKey);
    if (
      g.workspace_id !== this.o.workspaceId ||
      g.server_id !== this.serverId ||
      g.session_id !== this.sessionId ||
      g.controller_key_id !== toHex(this.myKeyId) ||
      !this.heldOutputKeys.has(g.output_key_id) ||
      g.payload_suite !== PAYLOAD_SUITE ||
      g.key_envelope_suite !== KEY_ENVELOPE_SUITE ||
      !(g.epoch > (this.inputEpoch || 0))
    ) {
      return; // not for us, or not newer than the key we hold: ignored (counted by the CLI)
    }
    const mine = g.grants.find((x) => x.recipient_key_id === toHex(this.myKeyId));
    const inputKeyId = fromHex(g.input_key_id);
    const key = await unwrapGrant(
      { recipient_key_id: this.myKeyId, payload_suite: PAYLOAD_SUITE, key_envelope_suite: KEY_ENVELOPE_SUITE, enc: fromHex(mine.enc), ciphertext: fromHex(mine.ciphertext) },
      'input',
      inputKeyId,
      this.context,
      this.o.device.webtty.privateKey,
      this.o.device.webttyPublicRaw,
    );
    this.inputEpoch = g.epoch;
    this.input = { cipher: await PayloadCipher.create('input', key, inputKeyId, this.context), counter: 0 };
    key.fill(0);
    this.controlPending = false;
    this.state('control', 'this browser controls the session');
    this.resolveReady(this);
  }

  ids() {
    return { workspaceId: this.o.workspaceId, serverId: this.serverId, sessionId: this.sessionId };
  }

  /**
   * A share started output-key epoch n+1: verified under the pinned server key and as exactly the
   * next epoch (continuity), our grant opened under the new context; output is then read under the
   * new key with counters from 0. A passed epoch (a replay or rollback by the engine) is ignored;
   * anything else that fails closes the connection (output_key_refused).
   */
  async outputKey(f) {
    if (!this.output) return this.fail('output_key_before_key_exchange');
    const e = await verifyEpoch(f.output_key_epoch, this.serverSigningKey, this.ids());
    if (continuity(e, this.epoch, toHex(this.output.keyId), this.recipients) === 'replayed') {
      if (this.o.integrity) this.o.integrity('output_key_replayed', e.epoch);
      return;
    }
    await this.adoptEpoch(e);
    this.counters = new Counters(false);
    this.event(f);
  }

  async adoptEpoch(e) {
    const mine = e.grants.find((g) => g.recipient_key_id === toHex(this.myKeyId));
    if (!mine) throw new WebTtyError('output_key_refused', 'the output-key epoch grants this browser nothing');
    const context = utf8(epochContextText(e));
    const keyIdBytes = fromHex(e.output_key_id);
    const key = await unwrapGrant(
      { recipient_key_id: this.myKeyId, payload_suite: PAYLOAD_SUITE, key_envelope_suite: KEY_ENVELOPE_SUITE, enc: fromHex(mine.enc), ciphertext: fromHex(mine.ciphertext) },
      'output',
      keyIdBytes,
      context,
      this.o.device.webtty.privateKey,
      this.o.device.webttyPublicRaw,
    );
    this.output = await PayloadCipher.create('output', key, keyIdBytes, context);
    key.fill(0);
    this.heldOutputKeys.add(e.output_key_id);
    this.recipients = e.key_context.recipients;
    this.epoch = e.epoch;
    if (this.o.epoch) this.o.epoch(e.epoch, this.recipients);
  }

  /**
   * Adds trusted devices to this live session, as `umbra tty share` does (docs/webtty.md "Adding a
   * recipient to a live session"): from the opener's connection (also re-attached), signed by the
   * key that signed the proof (this browser's device key), no `sharer`; or from the controller who
   * is not the opener, signed by its own device key with `sharer` = its credential and WebTTY key
   * binding as served (the daemon checks them under its pin and that the binding names the current
   * controller's key); a viewer is refused here. `devices`: the
   * verified viewers to add ({x25519, vouch}); `recipient_keys` lists exactly the added keys (the
   * daemon keeps every current recipient), `recipient_devices` what vouches for them, a 30 s
   * window. The daemon answers OUTPUT_KEY (the next epoch, read by outputKey) or REFUSED (an event).
   */
  async share(devices) {
    if (this.done || !this.live) throw new WebTtyError('not_live', 'the session is not live');
    const opener = this.opener || this.attach;
    if (!opener && !this.input) {
      throw new WebTtyError('share_refused_not_controller', 'only the opener or the controller of a session shares it');
    }
    if (!opener && !this.o.sharer) {
      throw new WebTtyError('share_refused_not_controller', 'this browser has no published WebTTY key binding to name as the sharer');
    }
    const added = [];
    for (const d of devices) {
      const id = toHex(await keyId(fromHex(d.x25519)));
      if (!this.recipients.includes(id) && !added.some((a) => a.x25519 === d.x25519)) added.push(d);
    }
    if (added.length === 0) throw new WebTtyError('share_nothing', 'every chosen device is a recipient already');
    if (added.length > 64) throw new WebTtyError('share_refused_limit', 'at most 64 devices at once');
    const now = Date.now();
    const doc = {
      type: SHARE_TYPE,
      workspace_id: this.o.workspaceId,
      server_id: this.serverId,
      session_id: this.sessionId,
      recipient_keys: added.map((d) => d.x25519).sort(),
      recipient_devices: added.map((d) => d.vouch),
      not_before_ms: now,
      not_after_ms: now + PROOF_WINDOW_MS,
    };
    if (!opener) doc.sharer = this.o.sharer; // the daemon checks it names the current controller's key
    const bytes = utf8(canonicalize(doc));
    const signature = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, this.o.device.signing.privateKey, bytes));
    this.write({ type: FrameType.SHARE, session_id: this.sessionId, share_request: { canonical_json: bytes, signature } });
    return added.length;
  }

  /**
   * Output under the receiver rules: the server as sender, a tag that verifies, the counter. The
   * listener gets the plaintext and three times (performance.now()): the frame's arrival, the start
   * of its handling (after the frames before it) and the end of its decryption.
   */
  async data(f, at) {
    if (!this.output) return this.fail('data_before_key');
    const started = performance.now();
    const stream = STREAMS[f.stream];
    if (!stream) return; // the engine does not fan stdin out; ignore rather than render it
    const s = f.sealed || {};
    if (!s.sender_key_id || !equalBytes(s.sender_key_id, this.serverKeyId)) {
      throw new WebTtyError('authentication_failed', 'output not sent by the server');
    }
    const plain = await this.output.open(stream, s);
    if (f.sequence) this.lastSequence = f.sequence;
    const v = this.counters.observe(s.payload_key_id, s.sender_key_id, s.counter || 0);
    if (v.kind === 'repeat') return this.o.integrity && this.o.integrity('output_repeat', s.counter || 0);
    if (v.kind === 'gap' && this.o.integrity) this.o.integrity('output_gap', v.missing);
    this.o.output(plain, at, started, performance.now());
  }

  /** Keystrokes, sealed under our input key in the order typed; without one, refused here. */
  send(bytes) {
    if (this.done) return;
    if (!this.input) {
      this.event({ type: FrameType.REFUSED, reason: 'not_controller' });
      return;
    }
    const typed = performance.now();
    this.sendChain = this.sendChain.then(async () => {
      for (let off = 0; off < bytes.length; off += MAX_PLAINTEXT) {
        const input = this.input;
        if (!input) return;
        const chunk = bytes.subarray(off, Math.min(bytes.length, off + MAX_PLAINTEXT));
        const sealed = await input.cipher.seal('stdin', this.myKeyId, input.counter++, chunk);
        this.write({ type: FrameType.DATA, session_id: this.sessionId, stream: Stream.STDIN, sequence: ++this.stdinSequence, sealed });
      }
      if (this.o.sent) this.o.sent(typed, performance.now());
    });
  }

  /** The terminal size, sealed under our input key (the visible size is for the engine and viewers). */
  resize(cols, rows) {
    if (this.done || !this.input) return;
    this.sendChain = this.sendChain.then(async () => {
      const input = this.input;
      if (!input) return;
      const plain = new Uint8Array(8);
      const v = new DataView(plain.buffer);
      v.setUint32(0, cols);
      v.setUint32(4, rows);
      const sealed = await input.cipher.seal('resize', this.myKeyId, input.counter++, plain);
      this.write({ type: FrameType.RESIZE, session_id: this.sessionId, size: { cols, rows }, sealed });
    });
  }

  requestControl() {
    this.write({ type: FrameType.CONTROL_REQUEST, session_id: this.sessionId });
  }

  giveControl(participantId) {
    this.write({ type: FrameType.CONTROL_GIVE, session_id: this.sessionId, participant_id: participantId });
  }

  takeControl() {
    this.write({ type: FrameType.CONTROL_TAKE, session_id: this.sessionId });
  }

  /** Leaves; for the opener the shell keeps running (detached) for the engine's detach period. */
  detach() {
    this.write({ type: FrameType.CLOSE, session_id: this.sessionId, reason: 'detached' });
    this.finish('detached');
    this.ws.close(1000);
  }

  /** Ends the session for everyone (the opener, also re-attached). */
  terminate() {
    this.write({ type: FrameType.CLOSE, session_id: this.sessionId, reason: 'terminate' });
  }

  fail(reason, e) {
    this.finish(reason, e && e.message);
    if (this.ws) this.ws.close(1000);
  }

  finish(reason, detail) {
    if (this.done) return;
    this.done = true;
    this.failover.stop();
    this.input = null;
    this.output = null;
    this.state('closed', reason + (detail ? ': ' + detail : ''));
    this.rejectReady(new WebTtyError(reason, detail || reason));
  }
}
