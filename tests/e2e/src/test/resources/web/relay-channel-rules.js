// The page's relay channel layer (relay-channel.js, docs/relay.md "Reliability, flow control,
// resume") on a stand-in connection, against a daemon side made of the page's own Noise responder:
// DATA is delivered only in sequence (a gap is held and answered with RESUME gap, a duplicate is not
// delivered again and is acknowledged), what the page sends is kept until acknowledged and resent
// byte for byte on RESUME (answered with RESUME reply), a ciphertext that does not authenticate
// closes the channel decrypt_failed, a plaintext that is no ChannelMessage malformed_message, both
// telling the daemon; a channel id past 2^63 survives the frame encoding; message 1's payload is
// canonical JSON of its type and time and, with a proof, the ClientAuth members whose signature
// verifies over the static-key binding; the agent frame
// admission skips repeats and refuses frames that are not frames.
async () => {
  const noise = await import('/app/js/noise.js');
  const rc = await import('/app/js/relay-channel.js');
  const sessions = await import('/app/js/agent-sessions.js');
  const cj = await import('/app/js/canonical-json.js');
  const b = await import('/app/js/bytes.js');
  const failures = [];
  let checked = 0;
  const check = (ok, what) => {
    checked++;
    if (!ok) failures.push(what);
  };
  // waits until `cond` holds, at most 5 s (no fixed sleep: the ACK timer's 5 ms is not assumed)
  const until = async (cond) => {
    const deadline = Date.now() + 5000;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return cond();
  };

  const pair = async () => {
    const daemonKey = await noise.generateX25519();
    const clientKey = await noise.generateX25519();
    const prologue = noise.relayPrologue('w', 't');
    const init = new noise.Handshake({ protocol: noise.IK, initiator: true, s: clientKey, rs: daemonKey.publicRaw, prologue });
    const resp = new noise.Handshake({ protocol: noise.IK, initiator: false, s: daemonKey, prologue });
    await resp.readMessage(await init.writeMessage(new Uint8Array(0)));
    await init.readMessage(await resp.writeMessage(new Uint8Array(0)));
    return { page: await init.split(), daemon: await resp.split() };
  };
  const standIn = async (id) => {
    const { page, daemon } = await pair();
    const sent = [];
    const conn = { o: { workspaceId: 'w' }, send: (f) => sent.push(f), channels: new Map() };
    const got = [];
    const state = { closed: null };
    const ch = new rc.Channel(conn, 't', id, page, {
      message: (m) => got.push(m),
      closed: (e) => (state.closed = e ? e.reason : 'normal'),
    });
    conn.channels.set(id, ch);
    const data = async (seq, plaintext) => ({
      type: rc.RelayFrameType.DATA, workspace_id: 'w', target_id: 't', channel_id: id, sequence: seq, ack: 0,
      payload: await daemon.encrypt(plaintext),
    });
    return { ch, daemon, sent, got, state, data };
  };
  const agent = (obj) => rc.encodeChannelMessage({ data: { stream: rc.ChannelStream.AGENT, bytes: b.utf8(JSON.stringify(obj)) } });

  // in order, gaps, duplicates, acknowledgements
  {
    const s = await standIn(7n);
    const f0 = await s.data(0, rc.encodeChannelMessage({ started: { session_id: 's1' } }));
    const f1 = await s.data(1, agent({ type: 'status', seq: 1, state: 'ready' }));
    const f2 = await s.data(2, agent({ type: 'output', seq: 2, text: 'hi' }));
    await s.ch.onFrame(f0);
    check(s.got.length === 1 && s.got[0].started && s.got[0].started.session_id === 's1', 'started is delivered first');
    await s.ch.onFrame(f2);
    check(s.got.length === 1, 'a DATA past a gap is not delivered');
    check(s.sent.some((f) => f.type === rc.RelayFrameType.RESUME && f.reason === 'gap' && f.ack === 1), 'a gap asks for a resend from 1');
    await s.ch.onFrame(f1);
    await s.ch.onFrame(f2);
    check(s.got.length === 3, 'the resent frames are delivered in order');
    await s.ch.onFrame(f1);
    check(s.got.length === 3, 'a duplicate is not delivered again');
    check(await until(() => s.sent.some((f) => f.type === rc.RelayFrameType.ACK && f.ack === 3)), 'an ACK of everything received follows');

    // what the page sends is kept, resent byte for byte on RESUME, and dropped once acknowledged
    await s.ch.sendAgent({ type: 'prompt', text: 'x' });
    const d = s.sent.filter((f) => f.type === rc.RelayFrameType.DATA);
    check(d.length === 1 && d[0].sequence === 0, 'the first DATA has sequence 0');
    const m = rc.decodeChannelMessage(await s.daemon.decrypt(d[0].payload));
    check(JSON.parse(new TextDecoder().decode(m.data.bytes)).text === 'x' && m.data.stream === rc.ChannelStream.AGENT, 'the daemon reads the prompt on STREAM_AGENT');
    const before = s.sent.length;
    await s.ch.onFrame({ type: rc.RelayFrameType.RESUME, workspace_id: 'w', target_id: 't', channel_id: 7n, ack: 0, sequence: 3 });
    const after = s.sent.slice(before);
    check(after.some((f) => f.type === rc.RelayFrameType.DATA && f.sequence === 0 && b.toHex(f.payload) === b.toHex(d[0].payload)), 'RESUME resends the kept ciphertext byte for byte');
    check(after.some((f) => f.type === rc.RelayFrameType.RESUME && f.reason === 'reply'), 'RESUME is answered with RESUME reply');
    await s.ch.onFrame({ type: rc.RelayFrameType.ACK, workspace_id: 'w', target_id: 't', channel_id: 7n, ack: 1 });
    check(s.ch.unacked.length === 0, 'an acknowledged DATA is dropped');

    // a ciphertext that does not authenticate closes the channel
    const f3 = await s.data(3, agent({ type: 'output', seq: 3, text: 'x' }));
    f3.payload = f3.payload.slice();
    f3.payload[0] ^= 1;
    await s.ch.onFrame(f3);
    check(s.state.closed === 'decrypt_failed', 'a tampered DATA closes the channel decrypt_failed: ' + s.state.closed);
    check(s.sent.some((f) => f.type === rc.RelayFrameType.CLOSE && f.reason === 'decrypt_failed'), 'the daemon is told decrypt_failed');
  }
  {
    const s = await standIn(2n ** 64n - 1n);
    await s.ch.onFrame(await s.data(0, Uint8Array.of(0xff, 0xff, 0xff)));
    check(s.state.closed === 'malformed_message', 'a plaintext that is no ChannelMessage closes malformed_message: ' + s.state.closed);
    check(s.got.length === 0, 'nothing of it is delivered');
  }

  // the envelope: a channel id past 2^63 and back
  {
    const f = { type: rc.RelayFrameType.OPEN, workspace_id: 'w', target_id: 't', channel_id: 2n ** 64n - 2n, sequence: 5, ack: 9, payload: Uint8Array.of(1, 2), reason: 'r' };
    const g = rc.decodeRelayFrame(rc.encodeRelayFrame(f));
    check(g.channel_id === f.channel_id && g.sequence === 5 && g.ack === 9 && g.workspace_id === 'w' && b.toHex(g.payload) === '0102', 'a relay frame survives its encoding');
  }

  // message 1's payload: its time, and the device's proof under Workspace Protection (ClientAuth)
  {
    const plain = new TextDecoder().decode(rc.handshakePayload(1796119200000, null));
    check(plain === '{"time":1796119200000,"type":"umbra-relay-client-auth/v2"}', 'message 1 without a proof is its type and time: ' + plain);
    let refused = false;
    try {
      rc.handshakePayload(1.5, null);
    } catch (e) {
      refused = true;
    }
    check(refused, 'a time that is not an integer is not written');
    const device = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    const staticKey = await noise.generateX25519();
    const credential = { payload: '{"type":"umbra-device-credential/v1"}', signature: 'ab'.repeat(64) };
    const proof = await rc.deviceProof(credential, device.privateKey, 'w1', 't1', staticKey.publicRaw);
    const text = new TextDecoder().decode(rc.handshakePayload(1796119200123, proof));
    const payload = JSON.parse(text);
    check(payload.type === 'umbra-relay-client-auth/v2' && payload.time === 1796119200123, 'message 1 carries its type and time');
    check(payload.credential.payload === credential.payload && payload.credential.signature === credential.signature, 'ClientAuth carries the credential as served');
    check(cj.canonicalize(payload) === text, 'message 1 is canonical JSON');
    check(Object.keys(payload).sort().join() === 'credential,static_key_signature,time,type', 'and nothing else: ' + Object.keys(payload));
    const binding = cj.canonicalize({ type: 'umbra-relay-client-static/v1', workspace_id: 'w1', target_id: 't1', noise_static_key: b.toHex(staticKey.publicRaw) });
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, device.publicKey, b.fromHex(payload.static_key_signature), b.utf8(binding));
    check(ok, 'the static key signature verifies over the binding');
    const other = cj.canonicalize({ type: 'umbra-relay-client-static/v1', workspace_id: 'w1', target_id: 't2', noise_static_key: b.toHex(staticKey.publicRaw) });
    check(!(await crypto.subtle.verify({ name: 'Ed25519' }, device.publicKey, b.fromHex(payload.static_key_signature), b.utf8(other))), 'it binds the target');
  }

  // agent frame admission
  {
    const st = { lastSeq: 0 };
    const enc = (o) => b.utf8(JSON.stringify(o));
    check(sessions.admitFrame(enc({ type: 'status', seq: 1, state: 'ready' }), st).seq === 1, 'a numbered frame is admitted');
    check(sessions.admitFrame(enc({ type: 'status', seq: 1, state: 'ready' }), st) === null, 'a repeat is skipped');
    check(sessions.admitFrame(enc({ type: 'page', next_seq: 2, more: false }), st).type === 'page', 'a frame outside the session has no number');
    for (const [what, bytes] of [
      ['unknown type', enc({ type: 'shell', seq: 2 })],
      ['no number', enc({ type: 'output', text: 'x' })],
      ['not an object', enc([1])],
      ['not JSON', b.utf8('{')],
      ['not UTF-8', Uint8Array.of(0xc3, 0x28)],
    ]) {
      let refused = false;
      try {
        sessions.admitFrame(bytes, st);
      } catch (e) {
        refused = true;
      }
      check(refused, 'refused: ' + what);
    }
    check(sessions.frameText({ type: 'output', seq: 4, text: 'a\u0007b' }).includes('\\u0007'), 'control characters are shown escaped');
  }
  return { failures, checked };
};
