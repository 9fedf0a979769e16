// This browser's messaging state (docs/web.md "Messaging"), in IndexedDB `umbra-messaging`, one
// record per key `<kind>/<workspace>/<device>[/<peer>]`:
//   storage-key  a non-extractable AES-256-GCM CryptoKey that seals everything secret below
//   identity     the X25519 identity key (non-extractable CryptoKey and its public half)
//   prekeys      signed and one-time prekeys (non-extractable CryptoKeys), counters, the
//                ephemeral keys of accepted initial messages (public values)
//   session      a ratchet state sealed with the storage key (AES-GCM, AAD naming the record), its
//                DHs key pair as a non-extractable CryptoKey beside it, and whether the peer answered
//   previous     up to 3 replaced sessions of a peer (sealed the same way), newest first
//   history      the conversation's texts, sealed; shown ids (at most 10,000)
//   pins         agents' Ed25519 keys pinned on first use
// Never localStorage. Records are replaced whole (no older copy is kept: an old ratchet state
// would bring back deleted message keys).

import { concat, utf8 } from './bytes.js';
import { RatchetSession } from './msg-ratchet.js';

const DB = 'umbra-messaging';
const STORE = 'records';
export const MAX_SHOWN = 10000;
export const MAX_HISTORY = 500;
export const MAX_PREVIOUS = 3;

function db() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run(mode, action) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction(STORE, mode);
    const req = action(tx.objectStore(STORE));
    tx.oncomplete = () => {
      d.close();
      resolve(req && req.result);
    };
    tx.onerror = () => {
      d.close();
      reject(tx.error);
    };
  });
}

const get = (key) => run('readonly', (s) => s.get(key));
const put = (record) => run('readwrite', (s) => s.put(record));

/** Deletes every messaging record of `workspace` (with "Forget this browser's keys"). */
export function forgetMessaging(workspace) {
  return run('readwrite', (s) => s.delete(IDBKeyRange.bound(workspace + '/', workspace + '/\uffff')));
}

/** The messaging store of one device of one workspace. */
export class MessagingStore {
  constructor(workspace, device, storageKey) {
    this.prefix = workspace + '/' + device + '/';
    this.storageKey = storageKey;
  }

  static async open(workspace, device) {
    const key = workspace + '/' + device + '/storage-key';
    let r = await get(key);
    if (!r) {
      r = { key, value: await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']) };
      await put(r);
    }
    return new MessagingStore(workspace, device, r.value);
  }

  async seal(name, bytes) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: this.aad(name) }, this.storageKey, bytes);
    return concat(iv, new Uint8Array(ct));
  }

  async unseal(name, sealed) {
    const ct = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.subarray(0, 12), additionalData: this.aad(name) }, this.storageKey, sealed.subarray(12));
    return new Uint8Array(ct);
  }

  aad(name) {
    return utf8('umbra-web-msg/v1\n' + this.prefix + name);
  }

  async load(name) {
    const r = await get(this.prefix + name);
    return r ? r.value : undefined;
  }

  save(name, value) {
    return put({ key: this.prefix + name, value });
  }

  /** This device's X25519 identity key pair (made once, non-extractable). */
  async identityKey() {
    let k = await this.load('identity');
    if (!k) {
      const pair = await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']);
      k = { privateKey: pair.privateKey, publicKey: new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey)) };
      await this.save('identity', k);
    }
    return k;
  }

  async prekeys() {
    return (await this.load('prekeys')) || { spkId: 0, nextOpkId: 1, signed: [], oneTime: [], seen: [] };
  }

  savePrekeys(p) {
    return this.save('prekeys', p);
  }

  /** {session, confirmed} of `peer`, or null. */
  async session(peer, options) {
    const r = await this.load('session/' + peer);
    if (!r) return null;
    const bytes = await this.unseal('session/' + peer, r.sealed);
    return { session: RatchetSession.fromBytes(bytes, r.dhs, options), confirmed: r.confirmed };
  }

  async saveSession(peer, session, confirmed) {
    await this.save('session/' + peer, { sealed: await this.seal('session/' + peer, session.toBytes()), dhs: session.s.dhs, confirmed });
  }

  async previousSessions(peer, options) {
    const list = (await this.load('previous/' + peer)) || [];
    const out = [];
    for (const [i, r] of list.entries()) {
      out.push(RatchetSession.fromBytes(await this.unseal('previous/' + peer + '/' + i, r.sealed), r.dhs, options));
    }
    return out;
  }

  async savePreviousSessions(peer, sessions) {
    const list = [];
    for (const [i, s] of sessions.slice(0, MAX_PREVIOUS).entries()) {
      list.push({ sealed: await this.seal('previous/' + peer + '/' + i, s.toBytes()), dhs: s.s.dhs });
    }
    await this.save('previous/' + peer, list);
  }

  /** Keeps `session` (replaced) as the newest previous session of `peer`. */
  async archiveSession(peer, session, options) {
    await this.savePreviousSessions(peer, [session, ...(await this.previousSessions(peer, options))]);
  }

  /** The texts of the conversation with `peer` (oldest first): {id, from, text, at}. */
  async history(peer) {
    const r = await this.load('history/' + peer);
    return r ? JSON.parse(new TextDecoder().decode(await this.unseal('history/' + peer, r))) : [];
  }

  async addToHistory(peer, entry) {
    const list = await this.history(peer);
    list.push(entry);
    await this.save('history/' + peer, await this.seal('history/' + peer, utf8(JSON.stringify(list.slice(-MAX_HISTORY)))));
  }

  async shown() {
    return new Set((await this.load('shown')) || []);
  }

  async markShown(id) {
    const list = (await this.load('shown')) || [];
    if (!list.includes(id)) list.push(id);
    await this.save('shown', list.slice(-MAX_SHOWN));
  }

  async pin(agent) {
    return (await this.load('pins') || {})[agent];
  }

  async savePin(agent, hex) {
    const pins = (await this.load('pins')) || {};
    pins[agent] = hex;
    await this.save('pins', pins);
  }
}
