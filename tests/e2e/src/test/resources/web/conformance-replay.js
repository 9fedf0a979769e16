// Replays shared/crypto/conformance/*.json against the page's own modules, in the page (loaded
// with their SRI hashes): what the page implements today — canonical JSON and Ed25519 signed
// documents (device WebTTY key bindings, WebTTY policy documents). Returns every failure at once.
async (files) => {
  const cj = await import('/app/js/canonical-json.js');
  const sig = await import('/app/js/signatures.js');
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
  return { checked, failures };
}
