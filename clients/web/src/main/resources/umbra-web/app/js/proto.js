// The WebTTY wire by hand (docs/webtty.md, shared/proto/.../webtty.proto): every WebSocket message
// is one serialized umbra.v1.WebTtyFrame. Only the fields a client reads or writes are known here;
// an unknown field is skipped, as protobuf requires. Encoding: varint for enums and integers,
// length-delimited for strings, bytes and messages; proto3 leaves default values out.

export const FrameType = Object.freeze({
  OPEN: 3,
  SERVER_HELLO: 5,
  CLIENT_PROOF: 6,
  READY: 7,
  DATA: 8,
  RESIZE: 9,
  EXIT: 10,
  JOIN: 11,
  ATTACH: 12,
  JOINED: 13,
  CONTROL_REQUEST: 14,
  CONTROL_GIVE: 15,
  CONTROL_TAKE: 16,
  CONTROL_CHANGED: 17,
  PARTICIPANT_JOINED: 18,
  PARTICIPANT_LEFT: 19,
  CLOSE: 20,
  REFUSED: 21,
  ERROR: 22,
  INPUT_KEY: 23,
  SHARE: 24,
  OUTPUT_KEY: 25,
  RESUME: 26,
  RESUMED: 27,
});

export const Stream = Object.freeze({ STDIN: 1, STDOUT: 2, STDERR: 3 });
export const Role = Object.freeze({ CONTROLLER: 1, VIEWER: 2 });

// field number -> [name, kind]; kinds: u (varint), i32 (varint as int32), s (string), b (bytes),
// f64 (fixed64), a nested schema (message), [schema] (repeated message)
const SIGNED = { 1: ['canonical_json', 'b'], 2: ['signature', 'b'] };
const SIZE = { 1: ['cols', 'u'], 2: ['rows', 'u'] };
const SEALED = {
  1: ['payload_suite', 's'],
  2: ['payload_key_id', 'b'],
  3: ['nonce', 'b'],
  4: ['ciphertext', 'b'],
  5: ['plaintext_length', 'u'],
  6: ['sender_key_id', 'b'],
  7: ['counter', 'u'],
};
const GRANT = {
  1: ['recipient_key_id', 'b'],
  7: ['key_role', 's'],
  2: ['payload_suite', 's'],
  3: ['key_envelope_suite', 's'],
  4: ['payload_key_id', 'b'],
  5: ['enc', 'b'],
  6: ['ciphertext', 'b'],
};
const PARTICIPANT = { 1: ['participant_id', 's'], 2: ['role', 'u'] };
const FRAME = {
  1: ['type', 'u'],
  2: ['session_id', 's'],
  3: ['stream', 'u'],
  4: ['sequence', 'u'],
  5: ['time_unix_ms', 'u'],
  6: ['sealed', SEALED],
  7: ['size', SIZE],
  9: ['server_id', 's'],
  10: ['server_hello', SIGNED],
  11: ['client_proof', SIGNED],
  12: ['grants', [GRANT]],
  13: ['key_context', 'b'],
  14: ['participant_id', 's'],
  15: ['role', 'u'],
  16: ['exit_status', 'i32'],
  17: ['reason', 's'],
  18: ['key_id', 'b'],
  19: ['participants', [PARTICIPANT]],
  20: ['opened_by', 's'],
  21: ['public_key', 'b'],
  22: ['input_key_grant', SIGNED],
  23: ['share_request', SIGNED],
  24: ['output_key_epoch', SIGNED],
  25: ['resume', SIGNED],
};

export class WireError extends Error {}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

function readVarint(buf, at) {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  for (let i = 0; i < 10; i++) {
    if (at.i >= buf.length) throw new WireError('truncated varint');
    const b = buf[at.i++];
    if (i === 9 && b > 1) throw new WireError('varint beyond 64 bits');
    if (shift < 28) lo |= (b & 0x7f) << shift;
    else if (shift === 28) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >> 4;
    } else hi |= (b & 0x7f) << (shift - 32);
    shift += 7;
    if ((b & 0x80) === 0) return { lo: lo >>> 0, hi: hi >>> 0 };
  }
  throw new WireError('varint longer than 10 bytes');
}

// the wire type each kind must arrive with: varint, fixed64 or length-delimited
const WIRE_OF = { u: 0, i32: 0, f64: 1 };
const wireOf = (kind) => (typeof kind === 'string' ? WIRE_OF[kind] ?? 2 : 2);

function utf8(value, name) {
  try {
    return decoder.decode(value);
  } catch {
    throw new WireError(name + ' is not UTF-8');
  }
}

/** `n` bytes of `buf` at `at`, refused when they run past its end. */
function take(buf, at, n) {
  if (n > buf.length - at.i) throw new WireError('length past end');
  const value = buf.subarray(at.i, at.i + n);
  at.i += n;
  return value;
}

/**
 * A message of `schema` from its bytes (kinds: u, i32, s, b, f64 — fixed64 as a BigInt —, a nested
 * schema, [schema] repeated); unknown fields are skipped. Fails closed: a known field with another
 * wire type than its kind's, field number 0, a varint past 64 bits or 10 bytes, a length past the
 * end and groups are refused with a WireError.
 */
export function decodeMessage(buf, schema) {
  const out = {};
  const at = { i: 0 };
  while (at.i < buf.length) {
    const key = readVarint(buf, at);
    if (key.hi !== 0 || key.lo >>> 3 === 0) throw new WireError('malformed field key');
    const field = key.lo >>> 3;
    const wire = key.lo & 7;
    const spec = schema[field];
    let value;
    if (wire === 0) value = readVarint(buf, at);
    else if (wire === 2) {
      const n = readVarint(buf, at);
      if (n.hi !== 0) throw new WireError('length past end');
      value = take(buf, at, n.lo);
    } else if (wire === 1) value = take(buf, at, 8);
    else if (wire === 5) value = take(buf, at, 4);
    else throw new WireError('unsupported wire type ' + wire);
    if (!spec) continue;
    const [name, kind] = spec;
    const expected = wireOf(Array.isArray(kind) ? kind[0] : kind);
    if (wire !== expected) throw new WireError(name + ' has wire type ' + wire + ', not ' + expected);
    if (Array.isArray(kind)) {
      (out[name] = out[name] || []).push(decodeMessage(value, kind[0]));
    } else if (typeof kind === 'object') {
      out[name] = decodeMessage(value, kind);
    } else if (kind === 'u') {
      if (value.hi >= 0x200000) throw new WireError('integer beyond 2^53');
      out[name] = value.hi * 0x100000000 + value.lo;
    } else if (kind === 'i32') out[name] = value.lo | 0;
    else if (kind === 'f64') out[name] = new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0, true);
    else if (kind === 's') out[name] = utf8(value, name);
    else out[name] = value; // bytes: a view of the received message
  }
  return out;
}

// the largest frame a client takes from the engine: twice the engine's 96 KiB frame, as the Java
// client's TtyFrames.MAX_FRAME_BYTES * 2
export const MAX_RECEIVED_FRAME_BYTES = 2 * 96 * 1024;

/** A received message (ArrayBuffer or Uint8Array) as a frame object (absent fields undefined). */
export function decodeFrame(message) {
  const buf = message instanceof Uint8Array ? message : new Uint8Array(message);
  if (buf.length > MAX_RECEIVED_FRAME_BYTES) throw new WireError('frame larger than ' + MAX_RECEIVED_FRAME_BYTES + ' bytes');
  return decodeMessage(buf, FRAME);
}

const HEADER = {
  1: ['session_id', 's'],
  2: ['workspace_id', 's'],
  3: ['server_id', 's'],
  4: ['opened_by', 's'],
  5: ['started_unix_ms', 'u'],
  6: ['ended_unix_ms', 'u'],
  7: ['key_context', 'b'],
  9: ['initial_size', SIZE],
  10: ['server_hello', SIGNED],
  11: ['client_proof', SIGNED],
};
const EVENT = {
  1: ['sequence', 'u'],
  2: ['time_unix_ms', 'u'],
  3: ['kind', 'u'],
  4: ['stream', 'u'],
  5: ['sealed', SEALED],
  6: ['size', SIZE],
  7: ['exit_status', 'i32'],
  8: ['input_key_grant', SIGNED],
  9: ['output_key_epoch', SIGNED],
};

/** RecordedEvent kinds (webtty.proto RecordedKind). */
export const RecordedKind = Object.freeze({ DATA: 1, RESIZE: 2, EXIT: 3, INPUT_KEY: 4, OUTPUT_KEY: 5 });

/**
 * A replay stream (application/vnd.umbra.webtty-recording): varint-length-delimited protobuf, one
 * RecordingHeader then every RecordedEvent in the engine's order.
 */
export function decodeRecording(bytes) {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const at = { i: 0 };
  const next = (schema) => {
    const n = readVarint(buf, at).lo;
    if (at.i + n > buf.length) throw new WireError('truncated recording');
    const m = decodeMessage(buf.subarray(at.i, at.i + n), schema);
    at.i += n;
    return m;
  };
  if (buf.length === 0) throw new WireError('empty recording stream');
  const header = next(HEADER);
  const events = [];
  while (at.i < buf.length) events.push(next(EVENT));
  return { header, events };
}

class Writer {
  constructor() {
    this.parts = [];
    this.length = 0;
  }
  bytes(b) {
    this.parts.push(b);
    this.length += b.length;
  }
  varint(n) {
    const out = [];
    let v = n;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.bytes(Uint8Array.from(out));
  }
  finish() {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** A message of `schema` (the kinds of decodeMessage) as bytes; proto3 defaults left out. */
export function encodeMessage(value, schema) {
  const w = new Writer();
  for (const [num, [name, kind]] of Object.entries(schema)) {
    const v = value[name];
    if (v === undefined || v === null) continue;
    const field = Number(num);
    const items = Array.isArray(kind) ? v : [v];
    const k = Array.isArray(kind) ? kind[0] : kind;
    for (const item of items) {
      if (k === 'f64') {
        if (typeof item !== 'bigint' || item < 0n || item >= 1n << 64n) throw new WireError(name + ' is not a u64');
        if (item === 0n) continue;
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, item, true);
        w.varint((field << 3) | 1);
        w.bytes(b);
        continue;
      }
      if (k === 'u' || k === 'i32') {
        if (item === 0) continue;
        if (!Number.isSafeInteger(item) || item < 0) throw new WireError(name + ' is not a non-negative integer');
        w.varint(field << 3);
        w.varint(item);
        continue;
      }
      const b = typeof k === 'object' ? encodeMessage(item, k) : k === 's' ? encoder.encode(item) : item;
      if (b.length === 0 && !Array.isArray(kind) && typeof k !== 'object') continue;
      w.varint((field << 3) | 2);
      w.varint(b.length);
      w.bytes(b);
    }
  }
  return w.finish();
}

/** A frame object as the bytes of one WebSocket message. */
export function encodeFrame(frame) {
  return encodeMessage(frame, FRAME);
}
