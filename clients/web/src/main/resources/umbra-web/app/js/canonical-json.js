// Canonical JSON (DESIGN.md §7): RFC 8785 (JCS) plus Umbra's rules — null object members are
// dropped, numbers are integers within ±(2^53−1), non-finite numbers and duplicate keys are refused.
// JSON.parse keeps the last of duplicate keys and rounds big numbers, so this has its own parser.

const MAX_DEPTH = 64;
const MAX_SAFE = 9007199254740991n;

/** A refusal; `category` is one of the conformance file's error hints. */
export class CanonicalJsonError extends Error {
  constructor(category, message) {
    super(message);
    this.category = category;
  }
}

/** Parses JSON text under the canonical rules (duplicates, fractions, range, surrogates). */
export function parse(text) {
  const p = new Parser(String(text));
  p.ws();
  const v = p.value(0);
  p.ws();
  if (p.i !== p.s.length) throw new CanonicalJsonError('invalid_json', 'text after the JSON value');
  return v;
}

/** The canonical text of a JSON value (objects with string keys, arrays, strings, integers, booleans, null). */
export function canonicalize(value) {
  if (value === null) return 'null';
  if (value === true || value === false) return String(value);
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CanonicalJsonError('non_finite', 'non-finite number');
    if (!Number.isSafeInteger(value)) throw new CanonicalJsonError('out_of_range', 'not a safe integer');
    return String(value === 0 ? 0 : value);
  }
  if (Array.isArray(value)) return '[' + value.map(canonicalize).join(',') + ']';
  if (typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== null && value[k] !== undefined)
      .sort(); // default sort: UTF-16 code units, as RFC 8785 asks
    return '{' + keys.map((k) => quote(k) + ':' + canonicalize(value[k])).join(',') + '}';
  }
  throw new CanonicalJsonError('invalid_json', 'not a JSON value: ' + typeof value);
}

/** The canonical form of JSON text. */
export function canonicalText(text) {
  return canonicalize(parse(text));
}

/** Parses text that must already be canonical (signed payloads): anything else is refused. */
export function parseCanonical(text) {
  const v = parse(text);
  if (canonicalize(v) !== text) throw new CanonicalJsonError('not_canonical', 'the text is not canonical JSON');
  return v;
}

function quote(s) {
  checkSurrogates(s);
  return JSON.stringify(s); // escapes exactly as RFC 8785 §3.2.2.2 for well-formed strings
}

function checkSurrogates(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1);
      if (!(n >= 0xdc00 && n <= 0xdfff)) throw new CanonicalJsonError('unpaired_surrogate', 'unpaired surrogate');
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      throw new CanonicalJsonError('unpaired_surrogate', 'unpaired surrogate');
    }
  }
}

class Parser {
  constructor(s) {
    this.s = s;
    this.i = 0;
  }

  fail(msg) {
    throw new CanonicalJsonError('invalid_json', msg + ' at ' + this.i);
  }

  ws() {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i])) this.i++;
  }

  value(depth) {
    if (depth > MAX_DEPTH) this.fail('nested too deeply');
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    for (const word of ['NaN', 'Infinity', '-Infinity']) {
      if (this.s.startsWith(word, this.i)) throw new CanonicalJsonError('non_finite', 'non-finite number');
    }
    return this.fail('unexpected character');
  }

  object(depth) {
    this.i++;
    const out = Object.create(null);
    const seen = new Set();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a member name');
      const k = this.string();
      if (seen.has(k)) throw new CanonicalJsonError('duplicate_key', 'duplicate key');
      seen.add(k);
      this.ws();
      if (this.s[this.i] !== ':') this.fail('expected :');
      this.i++;
      this.ws();
      out[k] = this.value(depth + 1);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected , or }');
    }
  }

  array(depth) {
    this.i++;
    const out = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected , or ]');
    }
  }

  string() {
    this.i++;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated string');
      const c = this.s[this.i++];
      if (c === '"') break;
      if (c < ' ') this.fail('control character in a string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e in simple) {
        out += simple[e];
      } else if (e === 'u') {
        const h = this.s.substr(this.i, 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('bad \\u escape');
        out += String.fromCharCode(parseInt(h, 16));
        this.i += 4;
      } else {
        this.fail('bad escape');
      }
    }
    checkSurrogates(out);
    return out;
  }

  number() {
    const m = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?/.exec(this.s.slice(this.i));
    if (!m) this.fail('bad number');
    this.i += m[0].length;
    const [, sign, int, frac = '', exp = '0'] = m;
    // value = digits × 10^shift, exactly: integral only when the fraction's digits cancel out
    let digits = (int + frac).replace(/^0+/, '');
    if (digits === '') return 0;
    let shift = BigInt(exp) - BigInt(frac.length);
    const trailing = digits.length - digits.replace(/0+$/, '').length;
    if (shift < 0n) {
      if (BigInt(trailing) < -shift) throw new CanonicalJsonError('non_integer', 'not an integer');
      digits = digits.slice(0, digits.length + Number(shift));
      shift = 0n;
    }
    if (BigInt(digits.length) + shift > 16n) throw new CanonicalJsonError('out_of_range', 'beyond ±(2^53−1)');
    const v = BigInt(digits) * 10n ** shift;
    if (v > MAX_SAFE) throw new CanonicalJsonError('out_of_range', 'beyond ±(2^53−1)');
    const n = Number(v);
    return sign === '-' ? -n || 0 : n;
  }
}
