// Replays shared/crypto/conformance/*.json against the page's own modules, in the page (loaded
// with their SRI hashes): what the page implements today — canonical JSON and Ed25519 signed
// documents (device WebTTY key bindings, WebTTY policy documents), and the device trust request and
// verification code the page builds itself (device-trust.json), and message 1 of a relay channel
// (relay-client-auth.json). Returns every failure at once.
async (files) => {
  const cj = await import('/app/js/canonical-json.js');
  const sig = await import('/app/js/signatures.js');
  const device = await import('/app/js/device.js');
  const codes = await import('/app/js/codes.js');
  const failures = [];
  let checked = 0;
  const fail = (file, i, what) => failures.push(file + ' #' + i + ': ' + what);

  JSON.parse(files['canonical-json.json']).vectors.forEach((v, i) => {
    checked++;
    let out;
    let err;
    try {
      out = cj.canonicalText(v.input);
    } catch (e) {
      err = e;
    }
    if ('canonical' in v) {
      if (out !== v.canonical) fail('canonical-json.json', i, 'got ' + (err ? 'error ' + err.message : out));
    } else if (!err) {
      fail('canonical-json.json', i, 'accepted ' + JSON.stringify(v.input) + ' (expected ' + v.error + ')');
    } else if (!(err instanceof cj.CanonicalJsonError)) {
      fail('canonical-json.json', i, 'threw something else: ' + err);
    }
  });

  for (const name of ['device-webtty-key.json', 'webtty-policy.json']) {
    const vectors = JSON.parse(files[name]).vectors;
    for (let i = 0; i < vectors.length; i++) {
      const v = vectors[i];
      checked++;
      if (cj.canonicalize(v.document) !== v.payload) fail(name, i, 'canonical form of the document differs');
      if (cj.canonicalText(v.payload) !== v.payload) fail(name, i, 'payload is not canonical');
      const seed = v.device_private_key || v.signer_private_key;
      const pub = v.device_public_key || v.signer_public_key;
      if (!seed) continue;
      const key = await sig.importEd25519Seed(seed);
      if ((await sig.signText(key, v.payload)) !== v.signature) fail(name, i, 'signing does not reproduce the signature');
      if (!(await sig.verifyText(pub, v.payload, v.signature))) fail(name, i, 'the signature does not verify');
      if (await sig.verifyText(pub, v.tampered_payload, v.signature)) fail(name, i, 'a tampered payload verifies');
    }
  }
  const trust = JSON.parse(files['device-trust.json']).vectors;
  for (let i = 0; i < trust.length; i++) {
    const v = trust[i];
    const d = v.document;
    checked++;
    // the page's own builders, from the vector's inputs
    const own = {
      workspaceId: d.workspace_id,
      deviceId: d.device_id,
      ed25519PublicKey: d.ed25519_public_key,
      p256PublicKey: d.p256_public_key,
      name: d.name,
    };
    const key = await sig.importEd25519Seed(v.device_private_key);
    const signed = await device.signFields(key, device.requestFields(own, d.timestamp_ms));
    if (signed.payload !== v.payload) fail('device-trust.json', i, 'request payload differs: ' + signed.payload);
    if (signed.signature !== v.signature) fail('device-trust.json', i, 'request signature differs');
    if (!(await sig.verifyText(v.device_public_key, v.payload, v.signature))) fail('device-trust.json', i, 'does not verify');
    if (await sig.verifyText(v.device_public_key, v.tampered_payload, v.signature)) fail('device-trust.json', i, 'a tampered request verifies');
    const payload = codes.deviceCodePayload(d.workspace_id, d.ed25519_public_key, d.p256_public_key, v.workspace_signing_key);
    if (cj.canonicalize(payload) !== v.code_canonical) fail('device-trust.json', i, 'code payload differs');
    const code = await codes.verificationCode(payload);
    if (code !== v.code) fail('device-trust.json', i, 'verification code ' + code + ' instead of ' + v.code);
  }
  // message 1 of a relay channel (docs/relay.md "Message 1"), as the page's relay-channel.js writes it
  const rc = await import('/app/js/relay-channel.js');
  const bytes = await import('/app/js/bytes.js');
  const hello = JSON.parse(files['relay-client-auth.json']).vectors;
  for (let i = 0; i < hello.length; i++) {
    const v = hello[i];
    checked++;
    let proof = null;
    if (v.credential) {
      const key = await sig.importEd25519Seed(v.device_private_key);
      proof = await rc.deviceProof(v.credential, key, v.workspace_id, v.target_id, bytes.fromHex(v.noise_static_key));
      if (proof.static_key_signature !== v.static_key_signature) fail('relay-client-auth.json', i, 'static key signature differs');
    }
    const text = new TextDecoder().decode(rc.handshakePayload(v.time, proof));
    if (text !== v.payload) fail('relay-client-auth.json', i, 'payload differs: ' + text);
  }
  return { checked, failures };
}
