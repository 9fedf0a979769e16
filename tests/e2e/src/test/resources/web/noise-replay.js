// Replays shared/crypto/conformance/noise.json (the relay channel's Noise handshakes, docs/relay.md
// "Channel crypto") against the page's own noise.js, in the page: for each IK / IKpsk2 vector an
// initiator and a responder with the vector's static and ephemeral keys, prologue and PSK write
// exactly the vector's handshake messages and read each other's back to the payloads, both reach
// the handshake hash, and the transport messages alternate byte for byte both ways. The prologue
// is the page's relayPrologue of the vector's workspace and target. Then what must be refused: a
// suite the page does not speak (the ChaChaPoly/BLAKE2b vector), message 1 or 2 or a transport
// message with one bit flipped, message 1 written to another responder key (a swapped machine
// key), a wrong PSK, the PSK form without a PSK; and a rekeyed transport stays in step both ways.
async (files) => {
  const b = await import('/app/js/bytes.js');
  const noise = await import('/app/js/noise.js');
  const failures = [];
  let checked = 0;
  const name = 'noise.json';
  const fail = (i, what) => failures.push(name + ' #' + i + ': ' + what);
  const refused = async (what, f) => {
    checked++;
    try {
      await f();
      return false;
    } catch (e) {
      if (!(e instanceof noise.NoiseError)) failures.push(what + ': threw something else: ' + e);
      return true;
    }
  };
  const flip = (bytes, at) => {
    const c = bytes.slice();
    c[at] ^= 1;
    return c;
  };
  const lpFields = (bytes) => {
    const out = [];
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let at = 0; at < bytes.length; ) {
      const n = view.getUint32(at);
      out.push(new TextDecoder().decode(bytes.subarray(at + 4, at + 4 + n)));
      at += 4 + n;
    }
    return out;
  };
  const sides = async (v, overrides = {}) => {
    const psk = v.init_psks.length ? b.fromHex(v.init_psks[0]) : undefined;
    const init = new noise.Handshake(Object.assign({
      protocol: v.protocol_name,
      initiator: true,
      s: await noise.importX25519Private(b.fromHex(v.init_static)),
      e: await noise.importX25519Private(b.fromHex(v.init_ephemeral)),
      rs: b.fromHex(v.init_remote_static),
      prologue: b.fromHex(v.init_prologue),
      psk,
    }, overrides.init || {}));
    const resp = new noise.Handshake(Object.assign({
      protocol: v.protocol_name,
      initiator: false,
      s: await noise.importX25519Private(b.fromHex(v.resp_static)),
      e: await noise.importX25519Private(b.fromHex(v.resp_ephemeral)),
      prologue: b.fromHex(v.resp_prologue),
      psk: v.resp_psks.length ? b.fromHex(v.resp_psks[0]) : undefined,
    }, overrides.resp || {}));
    return { init, resp };
  };

  const vectors = JSON.parse(files[name]).vectors;
  let replayed = 0;
  for (const [i, v] of vectors.entries()) {
    if (v.protocol_name !== noise.IK && v.protocol_name !== noise.IK_PSK2) {
      if (!(await refused('#' + i + ' ' + v.protocol_name, () => sides(v)))) fail(i, 'a suite the page does not speak was accepted: ' + v.protocol_name);
      continue;
    }
    replayed++;
    const [label, workspace, target] = lpFields(b.fromHex(v.init_prologue));
    checked++;
    if (label !== 'umbra-relay-noise/v1' || b.toHex(noise.relayPrologue(workspace, target)) !== v.init_prologue) fail(i, 'the prologue is not relayPrologue(' + workspace + ', ' + target + ')');
    const { init, resp } = await sides(v);
    const m = v.messages;
    const m1 = await init.writeMessage(b.fromHex(m[0].payload));
    checked++;
    if (b.toHex(m1) !== m[0].ciphertext) fail(i, 'message 1 differs: ' + b.toHex(m1));
    checked++;
    if (b.toHex(await resp.readMessage(b.fromHex(m[0].ciphertext))) !== m[0].payload) fail(i, 'message 1 does not read back');
    checked++;
    if (b.toHex(resp.remoteStatic) !== b.toHex((await noise.importX25519Private(b.fromHex(v.init_static))).publicRaw)) fail(i, 'the responder did not learn the initiator\'s static key');
    const m2 = await resp.writeMessage(b.fromHex(m[1].payload));
    checked++;
    if (b.toHex(m2) !== m[1].ciphertext) fail(i, 'message 2 differs: ' + b.toHex(m2));
    checked++;
    if (b.toHex(await init.readMessage(b.fromHex(m[1].ciphertext))) !== m[1].payload) fail(i, 'message 2 does not read back');
    const ti = await init.split();
    const tr = await resp.split();
    checked++;
    if (b.toHex(ti.handshakeHash) !== v.handshake_hash || b.toHex(tr.handshakeHash) !== v.handshake_hash) fail(i, 'handshake hash differs');
    for (const [j, msg] of m.slice(2).entries()) {
      const [from, to] = j % 2 === 0 ? [ti, tr] : [tr, ti];
      checked++;
      const ct = await from.encrypt(b.fromHex(msg.payload));
      if (b.toHex(ct) !== msg.ciphertext) fail(i, 'transport message ' + (j + 2) + ' differs');
      checked++;
      if (b.toHex(await to.decrypt(b.fromHex(msg.ciphertext))) !== msg.payload) fail(i, 'transport message ' + (j + 2) + ' does not read back');
    }

    // refusals
    {
      const s = await sides(v);
      await s.init.writeMessage(b.fromHex(m[0].payload));
      if (!(await refused('#' + i + ' flipped message 1', () => s.resp.readMessage(flip(b.fromHex(m[0].ciphertext), 40))))) fail(i, 'a flipped message 1 was read');
    }
    {
      const s = await sides(v);
      await s.init.writeMessage(b.fromHex(m[0].payload));
      if (!(await refused('#' + i + ' flipped message 2', () => s.init.readMessage(flip(b.fromHex(m[1].ciphertext), b.fromHex(m[1].ciphertext).length - 1))))) fail(i, 'a flipped message 2 was read');
    }
    {
      // the initiator pinned another key than the responder holds: message 1 does not open there
      const other = await noise.generateX25519();
      const s = await sides(v, { init: { rs: other.publicRaw, e: undefined } });
      const sent = await s.init.writeMessage(b.fromHex(m[0].payload));
      if (!(await refused('#' + i + ' swapped responder key', () => s.resp.readMessage(sent)))) fail(i, 'message 1 for another key was read');
    }
    {
      // an impostor without the pinned key's private half cannot read message 1, so whatever it
      // answers does not verify at the initiator
      const other = await noise.generateX25519();
      const s = await sides(v, { init: { e: undefined } });
      await s.init.writeMessage(b.fromHex(m[0].payload));
      const blind = b.concat(other.publicRaw, new Uint8Array(16));
      if (!(await refused('#' + i + ' message 2 of an impostor', () => s.init.readMessage(blind)))) fail(i, 'message 2 of an impostor was read');
    }
    {
      const s = await sides(v);
      await s.init.writeMessage(b.fromHex(m[0].payload));
      await s.resp.readMessage(b.fromHex(m[0].ciphertext));
      await s.init.readMessage(await s.resp.writeMessage(b.fromHex(m[1].payload)));
      const t = await s.resp.split();
      if (!(await refused('#' + i + ' flipped transport', () => t.decrypt(flip(b.fromHex(m[2].ciphertext), 0))))) fail(i, 'a flipped transport message was read');
      checked++;
      if (b.toHex(await t.decrypt(b.fromHex(m[2].ciphertext))) !== m[2].payload) fail(i, 'a failed decrypt moved the counter');
    }
    if (v.init_psks.length) {
      const s = await sides(v, { resp: { psk: flip(b.fromHex(v.resp_psks[0]), 0) } });
      await s.resp.readMessage(await s.init.writeMessage(b.fromHex(m[0].payload)));
      if (!(await refused('#' + i + ' wrong psk', async () => s.init.readMessage(await s.resp.writeMessage(b.fromHex(m[1].payload)))))) fail(i, 'message 2 under another PSK was read');
      if (!(await refused('#' + i + ' psk form without psk', () => sides(v, { init: { psk: undefined } })))) fail(i, 'IKpsk2 without a PSK was accepted');
    } else if (!(await refused('#' + i + ' IK with a psk', () => sides(v, { init: { psk: new Uint8Array(32) } })))) fail(i, 'IK with a PSK was accepted');
  }
  checked++;
  if (replayed < 2) failures.push('fewer than two IK vectors replayed: ' + replayed);

  // a rekeyed transport (every 2nd message here) stays in step both ways, and its keys change
  {
    const v = vectors[0];
    const s = await sides(v);
    await s.resp.readMessage(await s.init.writeMessage(new Uint8Array(0)));
    await s.init.readMessage(await s.resp.writeMessage(new Uint8Array(0)));
    const a = await s.init.split();
    const z = await s.resp.split();
    a.rekeyInterval = 2n;
    z.rekeyInterval = 2n;
    const seen = new Set();
    for (let k = 0; k < 6; k++) {
      const ct = await a.encrypt(b.utf8('same'));
      checked++;
      if (b.toHex(await z.decrypt(ct)) !== b.toHex(b.utf8('same'))) failures.push('rekeyed message ' + k + ' does not read back');
      seen.add(b.toHex(ct));
    }
    checked++;
    if (seen.size !== 6) failures.push('rekeying repeated a ciphertext');
  }
  return { failures, checked };
};
