// Replays the WebTTY v2 vectors of shared/crypto/conformance/ against the page's own modules, in
// the page (loaded with their SRI hashes): key ids, HPKE key grants (sealed with the vector's
// ephemeral key and opened again), payloads (sealed with the vector's nonce, AAD byte for byte,
// opened, a changed counter refused), the receivers' counter rule, and the daemon-signed input-key
// grant (signature under the server key, the controller's grant opened to the input key), and the
// daemon-signed output-key epoch of a share (verified, the next epoch, the added recipient's grant
// opened to the new output key; a replay ignored, a skipped epoch refused). Returns every failure.
async (files) => {
  const b = await import('/app/js/bytes.js');
  const w = await import('/app/js/webtty-crypto.js');
  const hpke = await import('/app/js/hpke.js');
  const tty = await import('/app/js/webtty.js');
  const epochs = await import('/app/js/webtty-epochs.js');
  const failures = [];
  let checked = 0;
  const fail = (file, i, what) => failures.push(file + ' #' + i + ': ' + what);
  const vectors = (name) => JSON.parse(files[name]).vectors;
  // an X25519 public key from its private key: the scalar times the base point (u = 9)
  const publicOf = async (priv) =>
    new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: 'X25519', public: await crypto.subtle.importKey('raw', Uint8Array.of(9, ...new Uint8Array(31)), { name: 'X25519' }, true, []) },
        priv,
        256,
      ),
    );

  vectors('webtty-key-id.json').forEach(() => checked++);
  for (const [i, v] of vectors('webtty-key-id.json').entries()) {
    if (b.toHex(await w.keyId(b.fromHex(v.public_key))) !== v.key_id) fail('webtty-key-id.json', i, 'key id differs');
  }

  for (const [i, v] of vectors('webtty-grant-v2.json').entries()) {
    checked++;
    const ctx = b.utf8(v.key_context);
    const pub = b.fromHex(v.recipient_public_key);
    const kid = b.fromHex(v.payload_key_id);
    if (b.toHex(w.grantInfo(v.key_role, kid, ctx)) !== v.info) fail('webtty-grant-v2.json', i, 'info differs');
    if (b.toHex(w.grantAad(b.fromHex(v.recipient_key_id), v.key_role, kid, ctx)) !== v.aad) fail('webtty-grant-v2.json', i, 'aad differs');
    const eph = { privateKey: await hpke.importX25519Private(b.fromHex(v.ephemeral_private_key)), publicRaw: b.fromHex(v.enc) };
    const g = await w.wrapGrant(v.key_role, b.fromHex(v.payload_key), kid, ctx, pub, eph);
    if (b.toHex(g.ciphertext) !== v.ciphertext) fail('webtty-grant-v2.json', i, 'sealing does not reproduce the ciphertext');
    const priv = await hpke.importX25519Private(b.fromHex(v.recipient_private_key));
    const key = await w.unwrapGrant(g, v.key_role, kid, ctx, priv, pub);
    if (b.toHex(key) !== v.payload_key) fail('webtty-grant-v2.json', i, 'opening does not give the key');
    const other = v.key_role === 'output' ? 'input' : 'output';
    if (await w.unwrapGrant(g, other, kid, ctx, priv, pub).then(() => true, () => false)) fail('webtty-grant-v2.json', i, 'opens in the other role');
  }

  for (const [i, v] of vectors('webtty-payload-v2.json').entries()) {
    checked++;
    const ctx = b.utf8(v.key_context);
    const c = await w.PayloadCipher.create(v.key_role, b.fromHex(v.payload_key), b.fromHex(v.payload_key_id), ctx);
    const plain = b.fromHex(v.plaintext);
    const aad = w.payloadAad(v.key_role, v.stream, b.fromHex(v.payload_key_id), ctx, b.fromHex(v.sender_key_id), v.counter, b.fromHex(v.nonce), plain.length);
    if (b.toHex(aad) !== v.aad) fail('webtty-payload-v2.json', i, 'aad differs');
    const s = await c.seal(v.stream, b.fromHex(v.sender_key_id), v.counter, plain, b.fromHex(v.nonce));
    if (b.toHex(s.ciphertext) !== v.ciphertext) fail('webtty-payload-v2.json', i, 'sealing does not reproduce the ciphertext');
    if (BigInt(v.counter) < 2n ** 53n) {
      const sealed = Object.assign({}, s, { counter: Number(v.counter) });
      if (b.toHex(await c.open(v.stream, sealed)) !== v.plaintext) fail('webtty-payload-v2.json', i, 'opening differs');
      const moved = Object.assign({}, sealed, { counter: sealed.counter + 1 });
      if (await c.open(v.stream, moved).then(() => true, () => false)) fail('webtty-payload-v2.json', i, 'opens under another counter');
    }
  }

  for (const [i, v] of vectors('webtty-counters-v2.json').entries()) {
    checked++;
    const c = new w.Counters(v.start === 'first_seen');
    const id = new Uint8Array(16);
    const got = v.counters.map((n) => {
      const r = c.observe(id, id, n);
      return r.kind === 'gap' ? 'gap:' + r.missing : r.kind;
    });
    if (JSON.stringify(got) !== JSON.stringify(v.verdicts)) fail('webtty-counters-v2.json', i, 'verdicts ' + got.join(','));
  }

  for (const [i, v] of vectors('webtty-input-key-grant-v2.json').entries()) {
    checked++;
    const m = { canonical_json: b.utf8(v.canonical_json), signature: b.fromHex(v.signature) };
    const doc = await tty.signedDocument(m, 'umbra-webtty-input-key/v2', v.server_signing_key);
    const priv = await hpke.importX25519Private(b.fromHex(v.controller_private_key));
    const pub = await publicOf(priv);
    const mine = doc.grants.find((g) => g.recipient_key_id === doc.controller_key_id);
    if (b.toHex(await w.keyId(pub)) !== doc.controller_key_id) fail('webtty-input-key-grant-v2.json', i, 'the controller key id differs');
    const key = await w.unwrapGrant(
      { recipient_key_id: b.fromHex(mine.recipient_key_id), payload_suite: doc.payload_suite, key_envelope_suite: doc.key_envelope_suite, enc: b.fromHex(mine.enc), ciphertext: b.fromHex(mine.ciphertext) },
      'input',
      b.fromHex(doc.input_key_id),
      b.utf8(v.key_context),
      priv,
      pub,
    );
    if (b.toHex(key) !== v.input_key) fail('webtty-input-key-grant-v2.json', i, 'the grant does not open to the input key');
    const forged = { canonical_json: b.utf8(v.canonical_json.replace('"epoch":', '"epoch":1')), signature: m.signature };
    if (await tty.signedDocument(forged, 'umbra-webtty-input-key/v2', v.server_signing_key).then(() => true, () => false)) {
      fail('webtty-input-key-grant-v2.json', i, 'a changed document verifies');
    }
  }
  for (const [i, v] of vectors('webtty-output-key-epoch-v2.json').entries()) {
    checked++;
    const name = 'webtty-output-key-epoch-v2.json';
    const m = { canonical_json: b.utf8(v.canonical_json), signature: b.fromHex(v.signature) };
    const previous = JSON.parse(v.previous_key_context);
    const ids = { workspaceId: previous.workspace_id, serverId: previous.server_id, sessionId: previous.session_id };
    const e = await epochs.verifyEpoch(m, v.server_signing_key, ids);
    if (epochs.epochContextText(e) !== v.key_context) fail(name, i, 'the new context differs');
    if (epochs.continuity(e, v.previous_epoch, v.previous_output_key_id, previous.recipients) !== 'next') fail(name, i, 'not the next epoch');
    if (epochs.continuity(e, e.epoch, v.previous_output_key_id, previous.recipients) !== 'replayed') fail(name, i, 'a replay is not ignored');
    const skipped = () => epochs.continuity(e, v.previous_epoch - 1, v.previous_output_key_id, previous.recipients);
    const other = () => epochs.continuity(e, v.previous_epoch, '00'.repeat(16), previous.recipients);
    const dropped = () => epochs.continuity(e, v.previous_epoch, v.previous_output_key_id, [...previous.recipients, 'ff'.repeat(16)]);
    for (const [what, f] of [['a skipped epoch', skipped], ['another retired key', other], ['a dropped recipient', dropped]]) {
      let refused = false;
      try {
        f();
      } catch (x) {
        refused = x.reason === 'output_key_refused';
      }
      if (!refused) fail(name, i, what + ' is not refused');
    }
    const priv = await hpke.importX25519Private(b.fromHex(v.added_recipient_private_key));
    const pub = await publicOf(priv);
    const kid = b.toHex(await w.keyId(pub));
    const grant = e.grants.find((g) => g.recipient_key_id === kid);
    if (!grant) {
      fail(name, i, 'no grant for the added recipient');
      continue;
    }
    const key = await w.unwrapGrant(
      { recipient_key_id: b.fromHex(kid), payload_suite: e.payload_suite, key_envelope_suite: e.key_envelope_suite, enc: b.fromHex(grant.enc), ciphertext: b.fromHex(grant.ciphertext) },
      'output',
      b.fromHex(e.output_key_id),
      b.utf8(v.key_context),
      priv,
      pub,
    );
    if (b.toHex(key) !== v.output_key) fail(name, i, 'the grant does not open to the output key');
    const forged = await epochs.verifyEpoch(m, v.server_signing_key.replace(/^../, '00'), ids).then(() => true, () => false);
    if (forged) fail(name, i, 'verifies under another key');
  }
  return { failures, checked };
}
