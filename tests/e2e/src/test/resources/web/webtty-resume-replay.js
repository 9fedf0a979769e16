// Replays shared/crypto/conformance/webtty-resume-v1.json (the daemon-signed resume document of an
// engine failover, docs/webtty.md "Engine failover") against the page's own modules, in the page:
// each vector verifies under its server key with the page's verifyResume and gives its document;
// signing its canonical JSON with the vector's private key reproduces the signature; the tampered
// JSON, another key, a short signature, unknown or missing members, one of the two key ids alone,
// a bad hex id, epoch 0 and an oversized document are refused (resume_refused); and the page's
// participant rules (resumeProblem) accept the document only for this workspace, server, session,
// output key and role, and refuse an epoch not newer than the last accepted as a replay.
async (files) => {
  const b = await import('/app/js/bytes.js');
  const cj = await import('/app/js/canonical-json.js');
  const f = await import('/app/js/webtty-failover.js');
  const failures = [];
  let checked = 0;
  const name = 'webtty-resume-v1.json';
  const fail = (i, what) => failures.push(name + ' #' + i + ': ' + what);
  const vectors = JSON.parse(files[name]).vectors;
  const signed = (json, signature) => ({ canonical_json: b.utf8(json), signature });
  const refusedWith = async (m, key) => {
    try {
      await f.verifyResume(m, key);
      return 'accepted';
    } catch (e) {
      return e.reason;
    }
  };
  const pkcs8 = (seedHex) => b.concat(b.fromHex('302e020100300506032b657004220420'), b.fromHex(seedHex));
  // a key of this test, to sign documents of a wrong shape (a signature that verifies, so the shape is what is refused)
  const own = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const ownHex = b.toHex(new Uint8Array(await crypto.subtle.exportKey('raw', own.publicKey)));
  const signOwn = async (doc) => {
    const bytes = b.utf8(cj.canonicalize(doc));
    return { canonical_json: bytes, signature: new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, own.privateKey, bytes)) };
  };

  for (const [i, v] of vectors.entries()) {
    checked++;
    const sig = b.fromHex(v.signature);
    let d = null;
    try {
      d = await f.verifyResume(signed(v.canonical_json, sig), v.server_signing_key);
    } catch (e) {
      fail(i, 'does not verify: ' + e.message);
    }
    if (d && cj.canonicalize(d) !== v.canonical_json) fail(i, 'the verified members differ from the document');
    if (cj.canonicalize(v.document) !== v.canonical_json) fail(i, 'the document is not its canonical JSON');
    const priv = await crypto.subtle.importKey('pkcs8', pkcs8(v.server_signing_private_key), { name: 'Ed25519' }, false, ['sign']);
    const again = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, priv, b.utf8(v.canonical_json)));
    if (b.toHex(again) !== v.signature) fail(i, 'signing does not reproduce the signature');
    const other = vectors[(i + 1) % vectors.length].server_signing_key === v.server_signing_key ? ownHex : vectors[(i + 1) % vectors.length].server_signing_key;
    const refusals = {
      tampered: await refusedWith(signed(v.tampered_canonical_json, sig), v.server_signing_key),
      'another key': await refusedWith(signed(v.canonical_json, sig), other),
      'a 63-byte signature': await refusedWith(signed(v.canonical_json, sig.subarray(0, 63)), v.server_signing_key),
      'no signature': await refusedWith({ canonical_json: b.utf8(v.canonical_json) }, v.server_signing_key),
    };
    const shapes = {
      'an unknown member': Object.assign({}, v.document, { extra: 1 }),
      'no session_id': Object.fromEntries(Object.entries(v.document).filter(([k]) => k !== 'session_id')),
      'another type': Object.assign({}, v.document, { type: 'umbra-webtty-resume/v2' }),
      'epoch 0': Object.assign({}, v.document, { epoch: 0 }),
      'a negative counter': Object.assign({}, v.document, { input_counter: -1 }),
      'a bad output key id': Object.assign({}, v.document, { output_key_id: 'XYZ' }),
      'a controller without an input key': Object.assign({}, v.document, { controller_key_id: '00'.repeat(16), input_key_id: undefined }),
      oversized: Object.assign({}, v.document, { server_id: 'x'.repeat(17 * 1024) }),
    };
    for (const [what, doc] of Object.entries(shapes)) {
      if (doc.input_key_id === undefined) delete doc.input_key_id;
      refusals[what] = await refusedWith(await signOwn(doc), ownHex);
    }
    if ((await refusedWith(await signOwn(v.document), ownHex)) !== 'accepted') fail(i, 'the document signed by another key does not verify under that key');
    for (const [what, r] of Object.entries(refusals)) {
      checked++;
      if (r !== 'resume_refused') fail(i, what + ': ' + r + ' instead of resume_refused');
    }

    // the participant's rules
    const doc = v.document;
    const controls = doc.controller_key_id !== undefined;
    const fits = {
      workspaceId: doc.workspace_id,
      serverId: doc.server_id,
      sessionId: doc.session_id,
      outputKeyId: doc.output_key_id,
      ownKeyId: controls ? doc.controller_key_id : 'ab'.repeat(16),
      controllerByEngine: controls,
      inputKeyId: controls ? doc.input_key_id : null,
      lastEpoch: doc.epoch - 1,
    };
    const rules = [
      ['fits', {}, null],
      ['another workspace', { workspaceId: 'w' }, 'resume_refused'],
      ['another server', { serverId: 's' }, 'resume_refused'],
      ['another session', { sessionId: '01JOTHER00000000000000000' }, 'resume_refused'],
      ['another output key', { outputKeyId: '00'.repeat(16) }, 'resume_refused'],
      ['a role the engine gave otherwise', { controllerByEngine: !controls }, 'resume_refused'],
      ['the epoch accepted already', { lastEpoch: doc.epoch }, 'resume_refused_replayed'],
      ['an older epoch', { lastEpoch: doc.epoch + 5 }, 'resume_refused_replayed'],
    ];
    if (controls) {
      rules.push(['another input key than ours', { inputKeyId: '00'.repeat(16) }, 'resume_refused']);
      rules.push(['controlling with no input key', { inputKeyId: null }, 'resume_refused']);
      rules.push(['another key controls', { ownKeyId: 'cd'.repeat(16) }, 'resume_refused']);
    } else {
      rules.push(['nobody controls, the engine gave control', { controllerByEngine: true }, 'resume_refused']);
    }
    for (const [what, change, want] of rules) {
      checked++;
      const got = f.resumeProblem(doc, Object.assign({}, fits, change));
      if (got !== want) fail(i, what + ': ' + got + ' instead of ' + want);
    }
  }
  return { failures, checked };
}
