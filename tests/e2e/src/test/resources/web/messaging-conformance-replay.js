// Replays the messaging vectors against the page's own modules, in the page (loaded with their SRI
// hashes): Wycheproof's XChaCha20-Poly1305 file (when given: every valid test seals to its
// ciphertext and tag and opens, every invalid one is refused), x3dh.json (public keys, binding and
// signed-prekey signatures, the bundle, its verification, DH1..DH4, SK, AD, the initial message
// byte for byte with the vector's ephemeral and first ratchet keys, and Bob opening it) and
// double-ratchet.json (the three KDFs, then the scripted conversation: every message byte for
// byte, out-of-order delivery, tampered and replayed messages refused with the state unchanged,
// both final states byte for byte). Returns every failure and how many checks ran.
async (files) => {
  const b = await import('/app/js/bytes.js');
  const x = await import('/app/js/xchacha20poly1305.js');
  const r = await import('/app/js/msg-ratchet.js');
  const x3dh = await import('/app/js/msg-x3dh.js');
  const failures = [];
  let checked = 0;
  let aeadTests = 0;
  const fail = (where, what) => failures.push(where + ': ' + what);
  const hex = b.toHex;
  const h = b.fromHex;
  const b64url = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0));
  const PKCS8 = { Ed25519: h('302e020100300506032b657004220420'), X25519: h('302e020100300506032b656e04220420') };
  // a vector's raw private key: the non-extractable key the page uses, its public half (from an
  // extractable import's JWK, test only) and the raw bytes (so that states encode as in Java)
  const importKey = async (alg, rawHex, usages) => {
    const pk = b.concat(PKCS8[alg], h(rawHex));
    const pub = b64url((await crypto.subtle.exportKey('jwk', await crypto.subtle.importKey('pkcs8', pk, { name: alg }, true, usages))).x);
    return { privateKey: await crypto.subtle.importKey('pkcs8', pk, { name: alg }, false, usages), publicKey: pub, raw: h(rawHex) };
  };
  const x25519 = (rawHex) => importKey('X25519', rawHex, ['deriveBits']);
  const refusal = async (p) => p.then(() => 'none', (e) => e.reason || String(e));
  const source = (keys) => {
    const queue = [...keys];
    return async () => {
      if (queue.length === 0) throw new Error('the vector has no further fresh key');
      return x25519(queue.shift());
    };
  };

  // ---- Wycheproof XChaCha20-Poly1305 ----
  if (files.wycheproof) {
    for (const g of JSON.parse(files.wycheproof).testGroups) {
      for (const t of g.tests) {
        checked++;
        aeadTests++;
        const where = 'wycheproof tcId ' + t.tcId;
        const key = h(t.key);
        const iv = h(t.iv);
        const aad = h(t.aad);
        const sealed = b.concat(h(t.ct), h(t.tag));
        let opened = null;
        try {
          opened = x.open(key, iv, sealed, aad);
        } catch (e) {
          opened = null; // a key or nonce of another size
        }
        if (t.result === 'valid') {
          if (opened === null || hex(opened) !== t.msg) fail(where, 'does not open to msg');
          if (hex(x.seal(key, iv, h(t.msg), aad)) !== t.ct + t.tag) fail(where, 'sealing does not give ct || tag');
        } else if (t.result === 'invalid' && opened !== null) {
          fail(where, 'an invalid test opened');
        }
      }
    }
  }

  // ---- x3dh.json ----
  for (const v of JSON.parse(files['x3dh.json']).vectors) {
    checked++;
    const where = v.name;
    const side = async (who) => {
      const ed = await importKey('Ed25519', v[who + '_identity_ed25519_private'], ['sign']);
      return { ed25519Public: ed.publicKey, signingKey: ed.privateKey, x25519: await x25519(v[who + '_identity_x25519_private']) };
    };
    const alice = await side('alice');
    const bob = await side('bob');
    for (const [who, id] of [['alice', alice], ['bob', bob]]) {
      if (hex(id.ed25519Public) !== v[who + '_identity_ed25519_public']) fail(where, who + ' Ed25519 public key');
      if (hex(id.x25519.publicKey) !== v[who + '_identity_x25519_public']) fail(where, who + ' X25519 public key');
      const sig = await x3dh.sign(id.signingKey, x3dh.bindingPayload(x3dh.publicIdentity(id)));
      if (hex(sig) !== v[who + '_identity_binding_signature']) fail(where, who + ' binding signature');
    }
    const spk = Object.assign(await x25519(v.bob_signed_prekey_private), {
      id: v.bob_signed_prekey_id,
      createdAt: v.bob_signed_prekey_created_at,
      expiresAt: v.bob_signed_prekey_expires_at,
    });
    if (hex(spk.publicKey) !== v.bob_signed_prekey_public) fail(where, 'signed prekey public key');
    const payload = x3dh.signedPrekeyPayload(x3dh.publicIdentity(bob), spk.id, spk.createdAt, spk.expiresAt, spk.publicKey);
    if (hex(payload) !== v.bob_signed_prekey_signed_payload) fail(where, 'signed prekey payload');
    if (hex(await x3dh.sign(bob.signingKey, payload)) !== v.bob_signed_prekey_signature) fail(where, 'signed prekey signature');
    const opk = v.bob_one_time_prekey_private ? Object.assign(await x25519(v.bob_one_time_prekey_private), { id: v.bob_one_time_prekey_id }) : null;
    let bundle = await x3dh.signedBundle(bob, spk);
    if (opk) bundle = b.concat(bundle.subarray(0, bundle.length - 1), Uint8Array.of(1), x3dh.u32(opk.id), opk.publicKey);
    if (hex(bundle) !== v.bundle) fail(where, 'bundle');
    const verified = await x3dh.verifyBundle(h(v.bundle), bob.ed25519Public, v.now);
    if (await refusal(x3dh.verifyBundle(h(v.bundle), alice.ed25519Public, v.now)) !== 'IDENTITY_MISMATCH') fail(where, 'a bundle under another pin is not IDENTITY_MISMATCH');
    if (await refusal(x3dh.verifyBundle(h(v.bundle), bob.ed25519Public, v.bob_signed_prekey_expires_at)) !== 'EXPIRED_PREKEY') fail(where, 'an expired bundle is not EXPIRED_PREKEY');
    const swapped = h(v.bundle);
    swapped[1 + 64 + 64 + 4 + 16] ^= 1; // a bit of the signed prekey
    if (await refusal(x3dh.verifyBundle(swapped, bob.ed25519Public, v.now)) !== 'BAD_SIGNATURE') fail(where, 'a swapped signed prekey is not BAD_SIGNATURE');
    const eph = await x25519(v.alice_ephemeral_private);
    if (hex(eph.publicKey) !== v.alice_ephemeral_public) fail(where, 'ephemeral public key');
    const dhs = [
      [alice.x25519, spk.publicKey],
      [eph, bob.x25519.publicKey],
      [eph, spk.publicKey],
    ];
    if (opk) dhs.push([eph, opk.publicKey]);
    for (const [i, [own, peer]] of dhs.entries()) {
      if (hex(await r.dh(own.privateKey, peer)) !== v['dh' + (i + 1)]) fail(where, 'dh' + (i + 1));
    }
    const a = await x3dh.agreeAsInitiator(alice, verified, eph);
    if (hex(a.sk) !== v.sk) fail(where, 'sk');
    if (hex(a.ad) !== v.ad) fail(where, 'ad');
    const bobSide = await x3dh.agreeAsResponder(bob, x3dh.publicIdentity(alice), eph.publicKey, spk, opk);
    if (hex(bobSide.sk) !== v.sk || hex(bobSide.ad) !== v.ad) fail(where, "Bob's side gives another sk or ad");
    const options = { keySource: source([v.alice_ephemeral_private, v.alice_first_ratchet_private]), now: () => v.now };
    const init = await x3dh.initiate(alice, verified, h(v.first_plaintext), options);
    if (hex(init.initialMessage) !== v.initial_message) fail(where, 'initial message');
    const seen = new Set();
    const prekeys = {
      signed: (id) => (id === spk.id ? spk : null),
      oneTime: (id) => (opk && id === opk.id ? opk : null),
      seen: (id, e) => seen.has(id + ':' + hex(e)),
      remember: (id, e) => seen.add(id + ':' + hex(e)),
      consume: () => {},
    };
    const got = await x3dh.respond(bob, prekeys, h(v.initial_message), alice.ed25519Public, { now: () => v.now });
    if (hex(got.plaintext) !== v.first_plaintext) fail(where, 'Bob does not open the initial message');
    if (await refusal(x3dh.respond(bob, prekeys, h(v.initial_message), alice.ed25519Public, { now: () => v.now })) !== 'REPLAYED') fail(where, 'a replayed initial message is not REPLAYED');
    if (await refusal(x3dh.respond(bob, prekeys, h(v.initial_message), bob.ed25519Public, { now: () => v.now })) !== 'IDENTITY_MISMATCH') fail(where, 'another pin is not IDENTITY_MISMATCH');
  }

  // ---- double-ratchet.json ----
  for (const [i, v] of JSON.parse(files['double-ratchet.json']).vectors.entries()) {
    checked++;
    const where = 'double-ratchet #' + i + ' ' + v.kind;
    if (v.kind === 'kdf_rk') {
      const [rk, ck] = await r.kdfRk(h(v.rk), h(v.dh_out));
      if (hex(rk) !== v.new_rk || hex(ck) !== v.ck) fail(where, 'differs');
    } else if (v.kind === 'kdf_ck') {
      const [ck, mk] = await r.kdfCk(h(v.ck));
      if (hex(ck) !== v.new_ck || hex(mk) !== v.mk) fail(where, 'differs');
    } else if (v.kind === 'message_key') {
      const [key, nonce] = await r.messageKeys(h(v.mk));
      if (hex(key) !== v.aead_key || hex(nonce) !== v.nonce) fail(where, 'differs');
    } else if (v.kind === 'conversation') {
      const now = () => v.now;
      const spk = await x25519(v.bob_signed_prekey_private);
      if (hex(spk.publicKey) !== v.bob_signed_prekey_public) fail(where, 'signed prekey public key');
      const sides = {
        alice: await r.RatchetSession.initiator(h(v.sk), h(v.ad), spk.publicKey, { keySource: source(v.alice_ratchet_keys), now }),
        bob: r.RatchetSession.responder(h(v.sk), h(v.ad), spk, { keySource: source(v.bob_ratchet_keys), now }),
      };
      for (const s of v.steps) {
        checked++;
        const at = where + ' step ' + s.op + ' ' + s.id;
        if (s.op === 'encrypt') {
          const m = await sides[s.sender].encrypt(h(s.plaintext));
          if (hex(m) !== s.message) fail(at, 'message differs');
          const p = r.parseMessage(m).header;
          if (hex(p.dh) !== s.dh || p.pn !== s.pn || p.n !== s.n) fail(at, 'header fields differ');
        } else if (s.op === 'decrypt') {
          const got = await sides[s.receiver].decrypt(h(s.message)).then(hex, (e) => 'refused ' + e.reason);
          if (got !== s.plaintext) fail(at, 'gives ' + got);
        } else {
          const before = hex(sides[s.receiver].toBytes());
          const why = await refusal(sides[s.receiver].decrypt(h(s.message)));
          if (why !== s.refusal) fail(at, 'refused as ' + why + ', not ' + s.refusal);
          if (hex(sides[s.receiver].toBytes()) !== before) fail(at, 'the refusal changed the state');
        }
      }
      if (hex(sides.alice.toBytes()) !== v.alice_final_state) fail(where, "Alice's final state");
      if (hex(sides.bob.toBytes()) !== v.bob_final_state) fail(where, "Bob's final state");
      const restored = r.RatchetSession.fromBytes(h(v.bob_final_state), sides.bob.s.dhs, { now });
      if (hex(restored.toBytes()) !== v.bob_final_state) fail(where, 'a decoded state does not encode to itself');
    } else {
      fail(where, 'unknown kind');
    }
  }
  return { failures, checked, aeadTests };
};
