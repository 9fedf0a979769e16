// This browser as a messaging device of its member (docs/messaging.md "Clients", docs/web.md
// "Messaging"), as the CLI's owner device (clients/core MessagingClient): its device Ed25519 key
// with an X25519 identity key of its own; prekeys published (a signed prekey rotated before it is
// 7 days old, the last 3 kept; one-time prekeys topped up by 100 when the server holds fewer than
// 20); X3DH on first contact with each recipient (one copy per recipient, framed u8 type || bytes);
// receiving: a copy seen before is acknowledged and dropped, else opened, stored, then its session
// stored, then acknowledged; a refused copy is acknowledged and never shown.

import { ApiError, connect } from './api.js';
import { concat, fromHex, toHex, utf8 } from './bytes.js';
import { freshKey, Refused } from './msg-ratchet.js';
import { MessagingStore } from './msg-store.js';
import { initiate, respond, signedBundle, u32, u64, verifyBundle } from './msg-x3dh.js';

export const MAX_TEXT_BYTES = 60000;
const MAX_ENVELOPE = 65536;
const OPK_LOW = 20;
const OPK_BATCH = 100;
const SPK_LIFETIME_S = 30 * 86400;
const SPK_ROTATE_AFTER_S = 7 * 86400;
const SPK_KEEP = 3;
const COPIES_PER_SEND = 10;
const MAX_BATCH = 64; // sends per POST /messages/batch (docs/messaging.md "Batches")
const MAX_ACK_IDS = 200;
const INITIAL = 1;
const RATCHET = 2;

const ws = (w) => '/v1/workspaces/' + encodeURIComponent(w);
export const msgPaths = {
  sessions: '/v1/sessions',
  agents: (w) => ws(w) + '/agents',
  agent: (w, a) => ws(w) + '/agents/' + encodeURIComponent(a),
  prekeys: (w) => ws(w) + '/prekeys',
  prekeyStatus: (w) => ws(w) + '/prekey-status',
  bundle: (w, p) => ws(w) + '/prekeys/' + encodeURIComponent(p),
  conversations: (w) => ws(w) + '/conversations',
  recipients: (w, c) => ws(w) + '/conversations/' + encodeURIComponent(c) + '/recipients',
  messages: (w) => ws(w) + '/messages',
  batch: (w) => ws(w) + '/messages/batch',
  acks: (w) => ws(w) + '/messages/acks',
  live: (w) => ws(w) + '/messages/live',
};

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));

function unb64(s, length) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new Refused('MALFORMED', 'not base64');
  const b = Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  if (length !== undefined && b.length !== length) throw new Refused('MALFORMED', 'expected ' + length + ' bytes');
  return b;
}

/** PrekeyWire.bundle: the bundle bytes the server's answer describes (still to be verified). */
export function bundleBytes(answer) {
  const head = concat(Uint8Array.of(1), unb64(answer.identity_key, 128), unb64(answer.signed_prekey, 116));
  const o = answer.one_time_prekey;
  if (o === null || o === undefined) return concat(head, Uint8Array.of(0));
  if (typeof o !== 'object' || !Number.isInteger(o.id) || o.id < 0 || o.id > 0xffffffff) throw new Refused('MALFORMED', 'one_time_prekey');
  return concat(head, Uint8Array.of(1), u32(o.id), unb64(o.public_key, 32));
}

/** java.util.UUID.compareTo: the two 64-bit halves compared as signed numbers. */
export function compareUuid(a, b) {
  const halves = (u) => {
    const h = u.replace(/-/g, '');
    return [BigInt.asIntN(64, BigInt('0x' + h.slice(0, 16))), BigInt.asIntN(64, BigInt('0x' + h.slice(16)))];
  };
  const [x, y] = [halves(a), halves(b)];
  for (let i = 0; i < 2; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

export class MessagingClient {
  /** `api`: the page's API-token client (agents' records); `device`: the trusted device record. */
  constructor(api, workspace, device, store, identity) {
    this.api = api;
    this.workspace = workspace;
    this.device = device;
    this.store = store;
    this.identity = identity;
    this.token = null;
    this.lock = Promise.resolve();
    this.options = {};
  }

  static async open(api, workspace, device) {
    const store = await MessagingStore.open(workspace, device.deviceId);
    const identity = { ed25519Public: fromHex(device.ed25519PublicKey), signingKey: device.signing.privateKey, x25519: await store.identityKey() };
    const c = new MessagingClient(api, workspace, device, store, identity);
    await c.locked(() => c.ensurePrekeys());
    return c;
  }

  /** One operation at a time on the state (one writer). */
  locked(action) {
    const run = this.lock.then(action, action);
    this.lock = run.catch(() => {});
    return run;
  }

  /** A control-plane session token bound to this device (renewed when refused). */
  async sessionToken(renew) {
    if (!this.token || renew) {
      const t = await this.api.post(msgPaths.sessions, { workspace_id: this.workspace, audience: 'control-plane', device_id: this.device.deviceId });
      this.token = t.token;
    }
    return this.token;
  }

  async call(method, path, body) {
    const once = async (renew) => {
      const c = connect(await this.sessionToken(renew));
      return method === 'GET' ? c.get(path) : c.post(path, body);
    };
    try {
      return await once(false);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      return once(true);
    }
  }

  async ensurePrekeys() {
    const status = await this.call('GET', msgPaths.prekeyStatus(this.workspace));
    const p = await this.store.prekeys();
    const now = Math.floor(Date.now() / 1000);
    let spk = p.signed.find((s) => s.id === p.spkId);
    const rotate = !spk || status.signed_prekey_id !== spk.id || now - spk.createdAt >= SPK_ROTATE_AFTER_S;
    const count = Number(status.one_time_prekeys) || 0;
    if (!rotate && count >= OPK_LOW) return false;
    if (rotate) {
      spk = Object.assign(await freshKey(), { id: p.spkId + 1, createdAt: now, expiresAt: now + SPK_LIFETIME_S });
      p.spkId = spk.id;
      p.signed = [...p.signed, spk].slice(-SPK_KEEP);
      const ids = new Set(p.signed.map((s) => s.id));
      p.seen = p.seen.filter((e) => ids.has(e.spkId));
    }
    const fresh = [];
    const want = Math.min(OPK_BATCH, 500 - count);
    for (let i = 0; i < want && count < OPK_LOW + OPK_BATCH; i++) {
      const o = Object.assign(await freshKey(), { id: p.nextOpkId++ });
      p.oneTime.push(o);
      fresh.push(o);
    }
    await this.store.savePrekeys(p); // private halves first: an upload we cannot use must not happen
    const bundle = await signedBundle(this.identity, spk);
    await this.call('POST', msgPaths.prekeys(this.workspace), {
      identity_key: b64(bundle.subarray(1, 129)),
      signed_prekey: b64(bundle.subarray(129, 245)),
      signed_prekey_id: spk.id,
      signed_prekey_expires_at: new Date(spk.expiresAt * 1000).toISOString().replace('.000Z', 'Z'),
      one_time_prekeys: fresh.map((o) => ({ id: o.id, public_key: b64(o.publicKey) })),
    });
    return true;
  }

  /**
   * An agent's Ed25519 key as this browser pinned it: on first use from the approved agent's
   * record (read with the member's API token), and any later change refused.
   */
  async agentPin(agentId) {
    const pinned = await this.store.pin(agentId);
    if (pinned) return fromHex(pinned);
    const a = await this.api.get(msgPaths.agent(this.workspace, agentId));
    if (a.status !== 'approved' || a.id !== agentId) throw new Error('agent ' + agentId + ' is not approved');
    const key = fromHex(a.ed25519_public_key);
    if (key.length !== 32) throw new Error('agent ' + agentId + ' has no Ed25519 key');
    await this.store.savePin(agentId, a.ed25519_public_key);
    return key;
  }

  async conversation(agentId) {
    return (await this.call('POST', msgPaths.conversations(this.workspace), { agent_id: agentId })).id;
  }

  /**
   * Sends `text` to every recipient of the conversation with `agentId`; resolves to the message id.
   * Texts sent while an earlier send is under way queue and go together, several a request
   * (`POST /messages/batch`), each still its own message (id, ciphertext, answer).
   */
  send(agentId, text) {
    return new Promise((resolve, reject) => {
      this.outbox = this.outbox || [];
      this.outbox.push({ agentId, text, resolve, reject });
      if (!this.flushing) this.flush();
    });
  }

  async flush() {
    this.flushing = true;
    try {
      while (this.outbox.length) {
        const agentId = this.outbox[0].agentId;
        const batch = [];
        while (batch.length < MAX_BATCH && this.outbox.length && this.outbox[0].agentId === agentId) batch.push(this.outbox.shift());
        try {
          const ids = await this.sendAll(agentId, batch.map((b) => b.text));
          batch.forEach((b, i) => (ids[i] instanceof Error ? b.reject(ids[i]) : b.resolve(ids[i])));
        } catch (e) {
          batch.forEach((b) => b.reject(e));
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Sends each of `texts` in order; resolves to one id (or the Error of its refusal) per text. */
  sendAll(agentId, texts) {
    return this.locked(async () => {
      const plains = texts.map((t) => utf8(t));
      if (plains.some((p) => p.length === 0 || p.length > MAX_TEXT_BYTES)) throw new Error('a message has 1..' + MAX_TEXT_BYTES + ' bytes of UTF-8');
      const conv = await this.conversation(agentId);
      const recipients = (await this.call('GET', msgPaths.recipients(this.workspace, conv))).items || [];
      if (recipients.length === 0) throw new Error('the conversation has no recipient to send to');
      const sends = [];
      for (const plain of plains) {
        const id = crypto.randomUUID();
        const copies = [];
        for (const r of recipients) {
          if (r.kind !== 'agent') throw new Error('a member\'s device talks to agents only, not ' + r.kind);
          copies.push({ recipient_id: r.id, ciphertext: b64(await this.encryptFor(r.id, plain)) });
        }
        for (let i = 0; i < copies.length; i += COPIES_PER_SEND) sends.push({ id, conversation_id: conv, copies: copies.slice(i, i + COPIES_PER_SEND) });
      }
      const refused = await this.post(sends);
      return this.record(agentId, texts, sends, refused);
    });
  }

  /** Posts `sends` (one request when alone, else batches); a Map of refused id -> Error. */
  async post(sends) {
    const refused = new Map();
    if (sends.length === 1) {
      await this.call('POST', msgPaths.messages(this.workspace), sends[0]);
      return refused;
    }
    for (let i = 0; i < sends.length; i += MAX_BATCH) {
      let left = sends.slice(i, i + MAX_BATCH);
      for (let attempt = 0; attempt < 3 && left.length; attempt++) {
        let answer;
        try {
          answer = await this.call('POST', msgPaths.batch(this.workspace), { messages: left });
        } catch (e) {
          if (attempt === 0 && (e.status === 404 || e.status === 405)) {
            for (const s of left) await this.call('POST', msgPaths.messages(this.workspace), s); // a server without batches
            left = [];
            break;
          }
          if (e.status >= 400 && e.status < 500) throw e;
          continue;
        }
        const again = [];
        (answer.results || []).forEach((r, k) => {
          if (!r.error) return;
          if (r.error.status >= 500) again.push(left[k]);
          else refused.set(left[k].id, new Error('message refused: ' + r.error.code + ' (' + r.error.message + ')'));
        });
        left = again;
      }
      if (left.length) throw new Error(left.length + ' messages not stored, try again');
    }
    return refused;
  }

  /** Keeps what was sent in the history; the id (or refusal) of each text, in order. */
  async record(agentId, texts, sends, refused) {
    const ids = [...new Set(sends.map((s) => s.id))];
    const out = [];
    for (let i = 0; i < texts.length; i++) {
      const id = ids[i];
      if (refused.has(id)) {
        out.push(refused.get(id));
        continue;
      }
      await this.store.addToHistory(agentId, { id, from: 'me', text: texts[i], at: new Date().toISOString() });
      await this.store.markShown(id);
      out.push(id);
    }
    return out;
  }

  async encryptFor(peer, plain) {
    const existing = await this.store.session(peer, this.options);
    let framed;
    if (existing) {
      framed = concat(Uint8Array.of(RATCHET), await existing.session.encrypt(plain));
      await this.store.saveSession(peer, existing.session, existing.confirmed);
    } else {
      const pinned = await this.agentPin(peer);
      let answer;
      try {
        answer = await this.call('GET', msgPaths.bundle(this.workspace, peer));
      } catch (e) {
        if (e.status === 404) throw new Error('agent ' + peer + ' has published no prekeys yet (it does on its first `umbra agent run`, `recv` or `send` after approval)');
        throw e;
      }
      const verified = await verifyBundle(bundleBytes(answer), pinned, Math.floor(Date.now() / 1000));
      const init = await initiate(this.identity, verified, plain, this.options);
      framed = concat(Uint8Array.of(INITIAL), init.initialMessage);
      await this.store.saveSession(peer, init.session, false);
    }
    if (framed.length > MAX_ENVELOPE) throw new Error('message too large');
    return framed;
  }

  /** Every pending copy (pages of GET /messages), received one by one; returns the outcomes. */
  fetchPending() {
    return this.locked(async () => {
      const outcomes = [];
      let after = null;
      for (let pages = 0; pages < 1000; pages++) {
        const page = await this.call('GET', msgPaths.messages(this.workspace) + '?limit=100' + (after === null ? '' : '&after=' + after));
        outcomes.push(...(await this.receiveAllLocked(page.items || [])));
        after = page.next_after;
        if (after === null || after === undefined) break;
      }
      return outcomes;
    });
  }

  /** One copy from the socket or a page: {kind: stored|duplicate|refused|held, entry?, reason?}. */
  receive(m) {
    return this.locked(() => this.receiveLocked(m));
  }

  /** The copies of one `messages` frame, in order; their acks go in one request at the end. */
  receiveAll(list) {
    return this.locked(() => this.receiveAllLocked(list));
  }

  async receiveAllLocked(list) {
    this.deferredAcks = [];
    const outcomes = [];
    try {
      for (const m of list) outcomes.push(await this.receiveLocked(m));
    } finally {
      const ids = this.deferredAcks;
      this.deferredAcks = null;
      for (let i = 0; i < ids.length; i += MAX_ACK_IDS) await this.ackNow(ids.slice(i, i + MAX_ACK_IDS));
    }
    return outcomes;
  }

  async receiveLocked(m) {
    let bytes;
    const id = m && typeof m.id === 'string' ? m.id : null;
    try {
      if (!/^[0-9a-f-]{36}$/.test(id) || !/^[0-9a-f-]{36}$/.test(m.sender_id) || m.sender_kind !== 'agent') throw new Error('malformed');
      bytes = unb64(m.ciphertext);
      if (bytes.length < 2 || bytes.length > MAX_ENVELOPE) throw new Error('malformed');
    } catch (e) {
      if (id) await this.ackQuietly(id);
      return { kind: 'refused', reason: 'message ' + id + ' refused: MALFORMED (discarded, not shown)' };
    }
    if ((await this.store.shown()).has(id)) {
      await this.ackQuietly(id);
      return { kind: 'duplicate' };
    }
    const sender = m.sender_id;
    let plain;
    try {
      if (bytes[0] === INITIAL) {
        plain = await this.openInitial(sender, bytes.subarray(1), (p) => this.keep(id, sender, p, m.created_at));
      } else if (bytes[0] === RATCHET) {
        const s = await this.store.session(sender, this.options);
        if (!s) return { kind: 'held' };
        plain = await this.openRatchet(sender, s.session, bytes.subarray(1), (p) => this.keep(id, sender, p, m.created_at));
      } else {
        throw new Refused('MALFORMED', 'unknown envelope type');
      }
    } catch (e) {
      await this.ackQuietly(id);
      return { kind: 'refused', reason: 'message ' + id + ' refused: ' + (e.reason || e.message) + ' (discarded, not shown)' };
    }
    await this.ackQuietly(id);
    return { kind: 'stored', entry: { id, agent: sender, text: new TextDecoder('utf-8', { fatal: false }).decode(plain), at: m.created_at } };
  }

  /** Stores the text and marks it shown before the session is saved (a crash shows nothing twice). */
  async keep(id, sender, plain, at) {
    await this.store.addToHistory(sender, { id, from: 'agent', text: new TextDecoder().decode(plain), at });
    await this.store.markShown(id);
  }

  async openRatchet(sender, current, body, keep) {
    try {
      const plain = await current.decrypt(body);
      await keep(plain);
      await this.store.saveSession(sender, current, true);
      return plain;
    } catch (refused) {
      const previous = await this.store.previousSessions(sender, this.options);
      for (const p of previous) {
        let plain;
        try {
          plain = await p.decrypt(body);
        } catch (notThisOne) {
          continue;
        }
        await keep(plain);
        await this.store.savePreviousSessions(sender, previous);
        return plain;
      }
      throw refused;
    }
  }

  /**
   * Opens an initial message. A session we initiated and never heard back on is kept when our id is
   * the smaller (both sides started at once); otherwise the new one replaces ours; the one not kept
   * becomes a previous session.
   */
  async openInitial(sender, body, keep) {
    const p = await this.store.prekeys();
    const seen = new Set(p.seen.map((e) => e.spkId + ':' + toHex(e.ephemeral)));
    const consumed = [];
    const prekeys = {
      signed: (id) => p.signed.find((s) => s.id === id) || null,
      oneTime: (id) => p.oneTime.find((o) => o.id === id) || null,
      seen: (spkId, e) => seen.has(spkId + ':' + toHex(e)),
      remember: (spkId, e) => p.seen.push({ spkId, ephemeral: e }),
      consume: (id) => consumed.push(id),
    };
    const r = await respond(this.identity, prekeys, body, await this.agentPin(sender), this.options);
    await keep(r.plaintext);
    p.oneTime = p.oneTime.filter((o) => !consumed.includes(o.id));
    p.seen = p.seen.slice(-100000);
    await this.store.savePrekeys(p);
    const existing = await this.store.session(sender, this.options);
    const keepOurs = existing && !existing.confirmed && compareUuid(this.device.deviceId, sender) < 0;
    if (keepOurs) {
      await this.store.archiveSession(sender, r.session, this.options);
    } else {
      if (existing) await this.store.archiveSession(sender, existing.session, this.options);
      await this.store.saveSession(sender, r.session, true);
    }
    return r.plaintext;
  }

  async ackQuietly(id) {
    if (this.deferredAcks) this.deferredAcks.push(id);
    else await this.ackNow([id]);
  }

  async ackNow(ids) {
    try {
      await this.call('POST', msgPaths.acks(this.workspace), { ids });
    } catch (e) {
      // left on the server: acknowledged as a duplicate when it comes again
    }
  }
}
