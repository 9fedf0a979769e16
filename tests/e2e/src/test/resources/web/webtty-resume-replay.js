// Replays shared/crypto/conformance/webtty-resume-v1.json (the daemon-signed resume document of an
// engine failover, docs/webtty.md "Engine failover") against the page's own modules, in the page:
// each vector verifies under its server key with the page's verifyResume and gives its document;
// signing its canonical JSON with the vector's private key reproduces the signature; the tampered
// JSON, another key, a short signature, unknown or missing members, one of the two key ids alone,
// a bad hex id, epoch 0 and an oversized document are refused (resume_refused); and the page's
// participant rules (resumeProblem) accept the document only for this workspace, server, session,
// output key and role, and refuse an epoch not newer than the last accepted as a replay. Then the
// page's EngineFailover itself, on a stand-in session: stdin sent before the drop at or above the
// document's input_counter is sent again byte for byte, then what was typed meanwhile, once; other
// frames wait; RESUMED before JOINED, a replayed epoch, a role the document does not give, a
// forged signature are refused (a byte-identical copy of the document accepted last is the same home
// again, not a replay) with the CLI's reasons; a RESUMED with no failover under way is
// ignored; ERROR while re-joining retries; a resume naming another controller drops held input.
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

  // EngineFailover on a stand-in session
  const P = await import('/app/js/proto.js');
  const W = '6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d';
  const S = '3f2c1a9e-7b6d-4c5e-8f90-a1b2c3d4e5f6';
  const SID = '01JEXAMPLE0000000000000000';
  const me = '72'.repeat(16);
  const inKey = '0a'.repeat(16);
  const outKey = '5d'.repeat(16);
  const rule = (what, ok) => {
    checked++;
    if (!ok) failures.push('EngineFailover: ' + what);
  };
  const stand = () => {
    const t = { sent: [], failed: [], resumed: [], closes: 0, reconnects: 0 };
    t.s = {
      o: { workspaceId: W },
      serverId: S,
      sessionId: SID,
      serverSigningKey: ownHex,
      myKeyId: b.fromHex(me),
      output: { keyId: b.fromHex(outKey) },
      input: { cipher: { keyId: b.fromHex(inKey) } },
      ws: { close: () => t.closes++ },
      renewToken: () => {},
      reconnect: () => t.reconnects++,
      sendNow: (x) => t.sent.push(x),
      fail: (r) => t.failed.push(r),
      resumed: (j, d) => t.resumed.push(d ? d.epoch : 'edge'),
    };
    t.fo = new f.EngineFailover(t.s);
    return t;
  };
  const stdin = (counter) => ({ type: P.FrameType.DATA, stream: P.Stream.STDIN, sealed: { payload_key_id: b.fromHex(inKey), counter } });
  const doc = (over) =>
    Object.assign(
      { controller_key_id: me, epoch: 1, input_counter: 3, input_key_id: inKey, output_counter: 9, output_epoch: 0, output_key_id: outKey, server_id: S, session_id: SID, time_ms: 1764950400000, type: f.RESUME_TYPE, workspace_id: W },
      over,
    );
  const numbered = (sequence) => Object.assign(stdin(sequence), { sequence });
  const resumed = async (d) => ({ type: P.FrameType.RESUMED, session_id: SID, reason: 'engine_failover', resume: await signOwn(d) });
  const joined = (role) => ({ type: P.FrameType.JOINED, session_id: SID, participant_id: 'p2', role });

  let t = stand();
  for (let c = 0; c < 5; c++) rule('stdin before a drop goes out', t.fo.hold(stdin(c)) === false);
  rule('a drop of a session not live is no failover', t.fo.lost(false) === false);
  rule('a drop of a live session starts one', t.fo.lost(true) === true && t.fo.active);
  rule('stdin typed meanwhile is held', t.fo.hold(stdin(5)) === true && t.fo.hold(stdin(6)) === true);
  rule('other frames wait too', t.fo.hold({ type: P.FrameType.CONTROL_REQUEST }) === true);
  rule('a frame before RESUMED is not handed on (the CLI ignores it too)', (await t.fo.onFrame({ type: P.FrameType.DATA })) === true);
  await t.fo.onFrame(joined(P.Role.CONTROLLER));
  await t.fo.onFrame(await resumed(doc()));
  rule('resumed: no refusal (' + t.failed + ')', t.failed.length === 0 && !t.fo.active);
  rule('what the dead home swallowed goes again, then what was held: counters ' + t.sent.map((x) => x.sealed.counter), t.sent.map((x) => x.sealed.counter).join() === '3,4,5,6');
  rule('byte for byte: the same frames', t.sent[0].sealed.counter === 3 && t.sent[2].sealed.counter === 5);
  rule('the session is told once', t.resumed.join() === '1' && t.fo.counts.engine_failovers === 1);
  rule('a RESUMED with no failover under way is ignored', (await t.fo.onFrame(await resumed(doc({ epoch: 2 })))) === true && t.fo.counts.resumed_unexpected === 1 && t.failed.length === 0);
  t.fo.lost(true);
  rule('ERROR while re-joining closes the attempt (a retry follows)', (await t.fo.onFrame({ type: P.FrameType.ERROR, reason: 'unknown_session' })) && t.closes === 1);
  await t.fo.onFrame(joined(P.Role.CONTROLLER));
  await t.fo.onFrame(await resumed(doc({ time_ms: 1764950400001 })));
  rule('another document of the same epoch is a replay', t.failed.join() === 'resume_refused_replayed');

  // the chaos suite's double RESUMED: back at the home that lived, the very document accepted
  t = stand();
  for (let c = 0; c < 3; c++) t.fo.hold(numbered(c + 1));
  t.fo.lost(true);
  await t.fo.onFrame(joined(P.Role.CONTROLLER));
  const accepted = await resumed(doc());
  await t.fo.onFrame(accepted);
  t.fo.hold(numbered(4));
  t.fo.hold(numbered(5));
  t.fo.lost(true);
  t.fo.hold(numbered(6));
  await t.fo.onFrame(joined(P.Role.CONTROLLER));
  t.sent = [];
  // the home took stdin 4 before the link dropped; the copy says so in `sequence`
  await t.fo.onFrame({ ...accepted, sequence: 4, resume: { canonical_json: accepted.resume.canonical_json.slice(), signature: accepted.resume.signature.slice() } });
  rule('a byte-identical copy of the accepted document is the same home again, not a replay (' + t.failed + ')', t.failed.length === 0 && !t.fo.active && t.fo.counts.resumed_same_home === 1);
  rule('and the kept stdin the home did not take goes again, then the held: ' + t.sent.map((x) => x.sequence), t.sent.map((x) => x.sequence).join() === '5,6');
  t.fo.lost(true);
  await t.fo.onFrame(joined(P.Role.CONTROLLER));
  await t.fo.onFrame(await resumed(doc({ input_counter: 1 })));
  rule('a different document of that epoch is still a replay', t.failed.join() === 'resume_refused_replayed');
  t = stand();
  t.fo.lost(true);
  await t.fo.onFrame(joined(P.Role.CONTROLLER));
  await t.fo.onFrame(accepted);
  rule('a copy of a document this page never accepted is verified as any other', t.failed.length === 0 && t.fo.counts.resumed_same_home === undefined && t.resumed.join() === '1');

  t = stand();
  t.fo.lost(true);
  await t.fo.onFrame(await resumed(doc()));
  rule('RESUMED before JOINED is refused', t.failed.join() === 'resume_refused');

  t = stand();
  t.fo.lost(true);
  await t.fo.onFrame(joined(P.Role.VIEWER));
  await t.fo.onFrame(await resumed(doc()));
  rule('control the engine did not give back is refused', t.failed.join() === 'resume_refused');

  t = stand();
  t.fo.lost(true);
  await t.fo.onFrame(joined(P.Role.CONTROLLER));
  const forged = await resumed(doc());
  forged.resume.canonical_json = b.utf8(cj.canonicalize(doc({ input_counter: 0 })));
  await t.fo.onFrame(forged);
  rule('a forged document is refused', t.failed.join() === 'resume_refused' && t.sent.length === 0);

  t = stand();
  t.fo.hold(stdin(0));
  t.fo.lost(true);
  t.fo.hold(stdin(1));
  await t.fo.onFrame(joined(P.Role.VIEWER));
  await t.fo.onFrame(await resumed(doc({ controller_key_id: 'cd'.repeat(16) })));
  rule('another controller: nothing typed goes out, no input key kept', t.failed.length === 0 && t.sent.length === 0 && t.s.input === null && t.fo.counts.failover_input_dropped === 1);

  // an edge instance's death: RESUMED edge_failover, no document, `sequence` the home's last stdin
  const edge = (sequence) => ({ type: P.FrameType.RESUMED, session_id: SID, reason: 'edge_failover', sequence });
  t = stand();
  for (let q = 1; q <= 4; q++) t.fo.hold(numbered(q));
  t.fo.lost(true);
  t.fo.hold(numbered(5));
  await t.fo.onFrame(joined(P.Role.CONTROLLER));
  await t.fo.onFrame(edge(2));
  rule('edge failover: in control again, what the dead edge swallowed goes again, then what was held: ' + t.sent.map((x) => x.sequence), t.failed.length === 0 && !t.fo.active && t.sent.map((x) => x.sequence).join() === '3,4,5');
  rule('edge failover: the page is told once', t.resumed.join() === 'edge' && t.fo.counts.edge_failovers === 1 && t.s.input !== null);

  t = stand();
  t.s.input = null;
  t.fo.lost(true);
  await t.fo.onFrame(joined(P.Role.CONTROLLER));
  await t.fo.onFrame(edge(0));
  rule('edge failover: control the page did not hold is refused', t.failed.join() === 'resume_refused');

  t = stand();
  t.fo.lost(true);
  t.fo.hold(numbered(1));
  await t.fo.onFrame(joined(P.Role.VIEWER));
  await t.fo.onFrame(edge(0));
  rule('edge failover: control given away meanwhile, nothing typed goes out', t.failed.length === 0 && t.sent.length === 0 && t.s.input === null);

  t = stand();
  t.fo.stop();
  rule('no failover after the session ended', t.fo.lost(true) === false);
  return { failures, checked };
}
