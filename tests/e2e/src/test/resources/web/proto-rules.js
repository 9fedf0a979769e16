// The page's hand-written protobuf decoder (proto.js, docs/web.md) fails closed, as the Java client
// does: a known field arriving with another wire type than its kind's (a varint where a nested
// message, a string or a fixed64 is expected, bytes where a varint is) is refused, not read as an
// empty message; truncated input (a varint, a length, a fixed64 or fixed32 running past the end), a
// length beyond 2^32, a varint of 11 bytes or past 64 bits, field number 0, groups, a string that is
// not UTF-8, an integer past 2^53 and a WebTTY frame over twice the engine's 96 KiB are refused with
// a WireError; unknown fields of every wire type are skipped; what is encoded decodes to itself; and
// seeded mutants of valid frames, channel frames and recordings either decode or are refused with a
// WireError, never another error.
async () => {
  const P = await import('/app/js/proto.js');
  const rc = await import('/app/js/relay-channel.js');
  const failures = [];
  let checked = 0;
  const check = (ok, what) => {
    checked++;
    if (!ok) failures.push(what);
  };
  const bytes = (...parts) => Uint8Array.from(parts.flat());
  const outcome = (f) => {
    try {
      return { value: f() };
    } catch (e) {
      return { error: e };
    }
  };
  // the same members, in any order
  const norm = (v) =>
    v instanceof Uint8Array ? Array.from(v) : typeof v === 'bigint' ? v.toString() : Array.isArray(v) ? v.map(norm)
      : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, norm(v[k])])) : v;
  // refused with a WireError whose message names `about`
  const refused = (what, f, about) => {
    const r = outcome(f);
    check(r.error instanceof P.WireError && r.error.message.includes(about), what + ': ' + (r.error ? r.error.message : 'accepted ' + JSON.stringify(norm(r.value))));
  };
  const varint = (n) => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);
  const key = (field, wire) => varint((field << 3) | wire);
  const same = (a, b) => JSON.stringify(norm(a)) === JSON.stringify(norm(b));

  const data = {
    type: P.FrameType.DATA,
    session_id: 'ses_1',
    stream: P.Stream.STDOUT,
    sequence: 2 ** 40 + 3,
    sealed: { payload_suite: 'umbra-webtty-v2', payload_key_id: new Uint8Array(16).fill(7), nonce: new Uint8Array(12).fill(1), ciphertext: new Uint8Array(300).fill(9), plaintext_length: 284, counter: 5 },
  };
  const joined = {
    type: P.FrameType.JOINED,
    size: { cols: 80, rows: 24 },
    grants: [{ recipient_key_id: new Uint8Array(16).fill(2), key_role: 'output', enc: new Uint8Array(32).fill(3) }, { key_role: 'input' }],
    participants: [{ participant_id: 'p1', role: P.Role.CONTROLLER }, { participant_id: 'p2', role: P.Role.VIEWER }],
    exit_status: 3,
    server_hello: { canonical_json: new TextEncoder().encode('{"a":1}'), signature: new Uint8Array(64).fill(4) },
  };
  for (const [name, f] of Object.entries({ data, joined })) {
    const back = P.decodeFrame(P.encodeFrame(f));
    check(same(back, f), name + ' round-trips: ' + JSON.stringify(Object.keys(back)));
  }

  // a known field with another wire type than its kind's
  refused('a varint where the nested sealed message is', () => P.decodeFrame(bytes(key(6, 0), 1)), 'sealed has wire type 0');
  refused('a varint where the nested size is', () => P.decodeFrame(bytes(key(1, 0), 8, key(7, 0), 0)), 'size has wire type 0');
  refused('a varint where a repeated grant is', () => P.decodeFrame(bytes(key(12, 0), 5)), 'grants has wire type 0');
  refused('a varint where a nested signed document is', () => P.decodeFrame(bytes(key(25, 0), 0)), 'resume has wire type 0');
  refused('a varint where a string is', () => P.decodeFrame(bytes(key(2, 0), 1)), 'session_id has wire type 0');
  refused('a varint where bytes are', () => P.decodeFrame(bytes(key(18, 0), 1)), 'key_id has wire type 0');
  refused('bytes where the frame type varint is', () => P.decodeFrame(bytes(key(1, 2), 1, 8)), 'type has wire type 2');
  refused('bytes where an int32 is', () => P.decodeFrame(bytes(key(16, 2), 0)), 'exit_status has wire type 2');
  refused('a fixed64 where a varint is', () => P.decodeFrame(bytes(key(4, 1), [1, 0, 0, 0, 0, 0, 0, 0])), 'sequence has wire type 1');
  refused('a fixed32 where a nested message is', () => P.decodeFrame(bytes(key(6, 5), [0, 0, 0, 0])), 'sealed has wire type 5');
  refused('a varint inside a nested message where bytes are', () => P.decodeFrame(bytes(key(6, 2), 2, key(4, 0), 1)), 'ciphertext has wire type 0');
  refused('a varint where the channel id fixed64 is', () => rc.decodeRelayFrame(bytes(key(4, 0), 1)), 'channel_id has wire type 0');
  refused('bytes where the channel id fixed64 is', () => rc.decodeRelayFrame(bytes(key(4, 2), 8, [1, 0, 0, 0, 0, 0, 0, 0])), 'channel_id has wire type 2');
  refused('a varint where a channel message is', () => rc.decodeChannelMessage(bytes(key(2, 0), 1)), 'data has wire type 0');

  // unknown fields of every wire type are skipped
  const unknown = bytes(key(99, 0), [0xff, 0x01], key(98, 1), [1, 2, 3, 4, 5, 6, 7, 8], key(97, 2), 2, [1, 2], key(96, 5), [1, 2, 3, 4], key(1, 0), 7);
  check(same(P.decodeFrame(unknown), { type: 7 }), 'unknown fields of every wire type are skipped');

  // truncated
  refused('a truncated key', () => P.decodeFrame(bytes(0x80)), 'truncated varint');
  refused('a truncated varint value', () => P.decodeFrame(bytes(key(4, 0), 0x80, 0x80)), 'truncated varint');
  refused('a truncated length', () => P.decodeFrame(bytes(key(2, 2), 0x81)), 'truncated varint');
  refused('a length past the end', () => P.decodeFrame(bytes(key(2, 2), 5, 0x61, 0x62)), 'length past end');
  refused('a nested length past the nested end', () => P.decodeFrame(bytes(key(6, 2), 2, key(4, 2), 9)), 'length past end');
  refused('a truncated fixed64', () => rc.decodeRelayFrame(bytes(key(4, 1), [1, 2, 3])), 'length past end');
  refused('a truncated unknown fixed32', () => P.decodeFrame(bytes(key(96, 5), [1, 2])), 'length past end');
  refused('an empty recording', () => P.decodeRecording(new Uint8Array(0)), 'empty recording');
  refused('a recording message past the end', () => P.decodeRecording(bytes(9, key(1, 2), 1)), 'truncated recording');
  const full = P.encodeFrame(data);
  let prefixes = 0;
  for (let n = 0; n < full.length; n++) {
    const r = outcome(() => P.decodeFrame(full.subarray(0, n)));
    if (r.error) prefixes += r.error instanceof P.WireError ? 1 : 0;
    else prefixes += n === 0 || r.value.type === P.FrameType.DATA ? 1 : 0;
  }
  check(prefixes === full.length, 'every prefix of a frame decodes or is refused with a WireError: ' + prefixes + '/' + full.length);

  // oversized, overlong, malformed
  refused('a length of 2^32 + 2', () => P.decodeFrame(bytes(key(2, 2), [0x82, 0x80, 0x80, 0x80, 0x10], 0x61, 0x62)), 'length past end');
  refused('an 11-byte varint', () => P.decodeFrame(bytes(key(4, 0), new Array(10).fill(0x80), 0)), 'beyond 64 bits');
  refused('a 10-byte varint past 64 bits', () => P.decodeFrame(bytes(key(4, 0), new Array(9).fill(0xff), 0x02)), 'beyond 64 bits');
  refused('an integer past 2^53', () => P.decodeFrame(bytes(key(4, 0), new Array(7).fill(0xff), 0x10)), 'beyond 2^53');
  check(P.decodeFrame(bytes(key(16, 0), new Array(9).fill(0xff), 0x01)).exit_status === -1, 'a negative int32 in 10 bytes is read');
  refused('field number 0', () => P.decodeFrame(bytes(key(0, 0), 1)), 'malformed field key');
  refused('a key past 32 bits', () => P.decodeFrame(bytes([0x88, 0x80, 0x80, 0x80, 0x80, 0x01], 1)), 'malformed field key');
  refused('a start group', () => P.decodeFrame(bytes(key(1, 3))), 'unsupported wire type 3');
  refused('an end group', () => P.decodeFrame(bytes(key(1, 4))), 'unsupported wire type 4');
  refused('wire type 7', () => P.decodeFrame(bytes(key(1, 7))), 'unsupported wire type 7');
  refused('a string that is not UTF-8', () => P.decodeFrame(bytes(key(2, 2), 2, 0xc3, 0x28)), 'session_id is not UTF-8');
  const big = { type: P.FrameType.DATA, sealed: { ciphertext: new Uint8Array(P.MAX_RECEIVED_FRAME_BYTES) } };
  refused('a frame over twice 96 KiB', () => P.decodeFrame(P.encodeFrame(big)), 'frame larger than');
  refused('a frame over twice 96 KiB as an ArrayBuffer', () => P.decodeFrame(P.encodeFrame(big).buffer), 'frame larger than');
  const largest = P.encodeFrame({ type: P.FrameType.DATA, sealed: { ciphertext: new Uint8Array(P.MAX_RECEIVED_FRAME_BYTES - 16) } });
  check(largest.length <= P.MAX_RECEIVED_FRAME_BYTES && P.decodeFrame(largest).sealed.ciphertext.length === P.MAX_RECEIVED_FRAME_BYTES - 16, 'a frame of at most twice 96 KiB is read');

  // seeded mutants: decoded or refused with a WireError, never anything else
  let seed = 0x2545f491;
  const rand = (n) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const mutate = (src) => {
    const b = Array.from(src);
    for (let k = 1 + rand(3); k > 0; k--) {
      const at = rand(b.length + 1);
      const op = rand(4);
      if (op === 0 && b.length) b[at % b.length] ^= 1 << rand(8);
      else if (op === 1) b.splice(at, 0, rand(256));
      else if (op === 2) b.splice(at, 1);
      else b.length = at;
    }
    return Uint8Array.from(b);
  };
  // a RecordedEvent's fields (webtty.proto) as far as these mutants need them
  const EVENT = { 1: ['sequence', 'u'], 3: ['kind', 'u'], 5: ['sealed', { 1: ['suite', 's'], 4: ['ciphertext', 'b'] }], 6: ['size', { 1: ['cols', 'u'] }] };
  const recording = bytes(
    [P.encodeMessage({ session_id: 's' }, { 1: ['session_id', 's'] })].flatMap((m) => [m.length, ...m]),
    [P.encodeMessage({ sequence: 1, kind: P.RecordedKind.DATA, sealed: { suite: 'x', ciphertext: new Uint8Array(20) }, size: { cols: 80 } }, EVENT)].flatMap((m) => [m.length, ...m]),
  );
  const seeds = [
    ['frame', P.encodeFrame(data), P.decodeFrame],
    ['frame', P.encodeFrame(joined), P.decodeFrame],
    ['relay frame', rc.encodeRelayFrame({ type: 5, channel_id: 2n ** 63n + 5n, sequence: 3, payload: new Uint8Array(40) }), rc.decodeRelayFrame],
    ['channel message', rc.encodeChannelMessage({ start: { agent: { attach: { session_id: 'a', from_seq: 4 } } } }), rc.decodeChannelMessage],
    ['recording', recording, P.decodeRecording],
  ];
  for (const [name, valid, decode] of seeds) check(outcome(() => decode(valid)).value, 'the ' + name + ' seed decodes');
  const others = [];
  let mutants = 0;
  for (const [name, valid, decode] of seeds) {
    for (let i = 0; i < 600; i++) {
      const m = mutate(valid);
      mutants++;
      const r = outcome(() => decode(m));
      if (r.error && !(r.error instanceof P.WireError)) others.push(name + ' ' + Array.from(m.subarray(0, 24)) + '…: ' + r.error);
    }
  }
  check(others.length === 0, 'mutants are decoded or refused with a WireError only: ' + others.slice(0, 3).join('; '));
  check(mutants === 3000, 'all mutants were tried');
  return { failures, checked };
}
