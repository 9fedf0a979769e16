// The bounded parser of the workflow YAML subset (docs/agents.md, "Definition format"), a port of
// shared/crypto WorkflowYaml: block mappings with plain keys, block sequences, one-line flow
// sequences of scalars, plain, single- and double-quoted scalars, `#` comments. Everything else is
// refused, as are texts over the same bounds. The page parses a stored definition with it to
// rebuild the signed `umbra-workflow/v1` payload itself (js/workflow-definition.js): it never takes
// the control plane's word for what was signed.

export const MAX_CHARS = 64 * 1024;
const MAX_LINES = 2000;
const MAX_DEPTH = 6;
const MAX_NODES = 4096;
const KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const NOT_PLAIN_START = "&*!|>{}%@`?,'\"";

/** A refusal: `problem` is one of WorkflowFormatException.Problem's codes (lower case). */
export class WorkflowFormatError extends Error {
  constructor(problem, line, message) {
    super(message + (line > 0 ? ' (line ' + line + ')' : ''));
    this.problem = problem;
  }
}

// Java's String.strip(): Character.isWhitespace, not JavaScript's wider trim().
function javaSpace(c) {
  const x = c.charCodeAt(0);
  return (
    (x >= 0x09 && x <= 0x0d) || (x >= 0x1c && x <= 0x20) || x === 0x1680 ||
    (x >= 0x2000 && x <= 0x2006) || (x >= 0x2008 && x <= 0x200a) ||
    x === 0x2028 || x === 0x2029 || x === 0x205f || x === 0x3000
  );
}
function stripLeading(s) {
  let i = 0;
  while (i < s.length && javaSpace(s[i])) i++;
  return s.substring(i);
}
function stripTrailing(s) {
  let j = s.length;
  while (j > 0 && javaSpace(s[j - 1])) j--;
  return s.substring(0, j);
}
function strip(s) {
  return stripTrailing(stripLeading(s));
}

const isItem = (text) => text === '-' || text.startsWith('- ');

/** The document's root mapping: nested Maps (insertion-ordered), arrays and strings. */
export function parseYaml(text) {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_CHARS) {
    throw new WorkflowFormatError('size', 0, 'a workflow must be 1 to ' + MAX_CHARS + ' characters');
  }
  const p = new Parser(split(text));
  if (p.lines.length === 0) throw new WorkflowFormatError('malformed', 0, 'the workflow is empty');
  if (p.lines[0].indent !== 0 || isItem(p.lines[0].text)) {
    throw new WorkflowFormatError('malformed', p.lines[0].no, 'the document must be a mapping at column 0');
  }
  const root = p.mapping(0, 1);
  if (p.pos < p.lines.length) throw new WorkflowFormatError('malformed', p.lines[p.pos].no, 'unexpected indentation');
  return root;
}

function split(text) {
  const lines = [];
  let no = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    no++;
    if (no > MAX_LINES) throw new WorkflowFormatError('size', no, 'a workflow has at most ' + MAX_LINES + ' lines');
    let raw = text.substring(start, end);
    if (raw.endsWith('\r')) raw = raw.substring(0, raw.length - 1);
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c < 0x20 || c === 0x7f || c === 0xfeff) {
        throw new WorkflowFormatError('malformed', no, 'tabs and control characters are not allowed');
      }
    }
    const content = stripTrailing(stripComment(raw));
    let indent = 0;
    while (indent < content.length && content[indent] === ' ') indent++;
    const body = content.substring(indent);
    if (body.length > 0) {
      if (indent === 0 && (body.startsWith('---') || body.startsWith('...') || body.startsWith('%'))) {
        throw new WorkflowFormatError('unsupported', no, 'one document only: no directives or document markers');
      }
      lines.push({ no, indent, text: body });
    }
    start = end + 1;
  }
  return lines;
}

function stripComment(raw) {
  let quote = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quote !== null) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      if (i === 0 || ' [,:-'.includes(raw[i - 1])) quote = c;
    } else if (c === '#' && (i === 0 || raw[i - 1] === ' ')) {
      return raw.substring(0, i);
    }
  }
  return raw;
}

class Parser {
  constructor(lines) {
    this.lines = lines;
    this.pos = 0;
    this.nodes = 0;
  }

  count(no) {
    if (++this.nodes > MAX_NODES) throw new WorkflowFormatError('size', no, 'a workflow has at most ' + MAX_NODES + ' values');
  }

  mapping(indent, depth) {
    checkDepth(depth, this.lines[this.pos].no);
    const out = new Map();
    while (this.pos < this.lines.length && this.lines[this.pos].indent === indent) {
      const line = this.lines[this.pos];
      if (isItem(line.text)) throw new WorkflowFormatError('malformed', line.no, 'a list item in a mapping');
      const colon = keyEnd(line.text);
      if (colon < 0) throw new WorkflowFormatError('malformed', line.no, "expected 'key: value' with a plain key");
      const key = line.text.substring(0, colon);
      if (out.has(key)) throw new WorkflowFormatError('duplicate_key', line.no, "the key '" + key + "' appears twice");
      this.count(line.no);
      const rest = strip(line.text.substring(colon + 1));
      this.pos++;
      out.set(key, rest.length === 0 ? this.nested(indent, depth, line.no) : this.scalarOrFlow(rest, line.no));
    }
    return out;
  }

  nested(indent, depth, no) {
    if (this.pos < this.lines.length) {
      const next = this.lines[this.pos];
      if (next.indent > indent) {
        return isItem(next.text) ? this.sequence(next.indent, depth + 1) : this.mapping(next.indent, depth + 1);
      }
      if (next.indent === indent && isItem(next.text)) return this.sequence(indent, depth + 1);
    }
    throw new WorkflowFormatError('malformed', no, 'a key without a value');
  }

  sequence(indent, depth) {
    checkDepth(depth, this.lines[this.pos].no);
    const out = [];
    while (this.pos < this.lines.length && this.lines[this.pos].indent === indent && isItem(this.lines[this.pos].text)) {
      const line = this.lines[this.pos];
      this.count(line.no);
      const rest = stripLeading(line.text.substring(1));
      if (rest.length === 0) {
        this.pos++;
        if (this.pos >= this.lines.length || this.lines[this.pos].indent <= indent) {
          throw new WorkflowFormatError('malformed', line.no, 'an empty list item');
        }
        const next = this.lines[this.pos];
        out.push(isItem(next.text) ? this.sequence(next.indent, depth + 1) : this.mapping(next.indent, depth + 1));
      } else if (keyEnd(rest) >= 0) {
        const column = indent + line.text.length - rest.length; // "- key: value" opens a mapping at "key"
        this.lines[this.pos] = { no: line.no, indent: column, text: rest };
        out.push(this.mapping(column, depth + 1));
      } else if (isItem(rest)) {
        throw new WorkflowFormatError('unsupported', line.no, 'write a nested list on its own lines');
      } else {
        this.pos++;
        out.push(this.scalarOrFlow(rest, line.no));
      }
    }
    return out;
  }

  scalarOrFlow(text, no) {
    return text.startsWith('[') ? this.flow(text, no) : scalar(text, no);
  }

  flow(text, no) {
    if (!text.endsWith(']')) throw new WorkflowFormatError('malformed', no, 'a flow list must end on its line');
    const out = [];
    const inner = strip(text.substring(1, text.length - 1));
    let i = 0;
    while (i < inner.length) {
      const end = itemEnd(inner, i, no);
      const item = strip(inner.substring(i, end));
      if (item.length === 0 || item.startsWith('[')) {
        throw new WorkflowFormatError('malformed', no, 'a flow list holds non-empty scalars only');
      }
      this.count(no);
      out.push(scalar(item, no));
      i = end + 1;
      if (end < inner.length && i >= inner.length) throw new WorkflowFormatError('malformed', no, 'a trailing comma');
    }
    return out;
  }
}

function checkDepth(depth, no) {
  if (depth > MAX_DEPTH) throw new WorkflowFormatError('depth', no, 'a workflow nests at most ' + MAX_DEPTH + ' levels');
}

function keyEnd(text) {
  const colon = text.indexOf(':');
  if (colon <= 0 || (colon + 1 < text.length && text[colon + 1] !== ' ')) return -1;
  return KEY.test(text.substring(0, colon)) ? colon : -1;
}

function itemEnd(s, from, no) {
  let i = from;
  while (i < s.length && s[i] === ' ') i++;
  if (i < s.length && (s[i] === '"' || s[i] === "'")) i = closingQuote(s, i, no) + 1;
  const comma = s.indexOf(',', i);
  return comma < 0 ? s.length : comma;
}

function closingQuote(s, open, no) {
  const q = s[open];
  for (let i = open + 1; i < s.length; i++) {
    const c = s[i];
    if (q === '"' && c === '\\') {
      i++;
    } else if (c === q) {
      if (q === "'" && i + 1 < s.length && s[i + 1] === "'") i++;
      else return i;
    }
  }
  throw new WorkflowFormatError('malformed', no, 'an unterminated quoted string');
}

function scalar(text, no) {
  const first = text[0];
  if (first === '"' || first === "'") {
    const close = closingQuote(text, 0, no);
    if (close !== text.length - 1) throw new WorkflowFormatError('malformed', no, 'text after a quoted string');
    const inner = text.substring(1, close);
    return first === "'" ? inner.split("''").join("'") : unescape(inner, no);
  }
  if (NOT_PLAIN_START.includes(first) || first === '[' || first === ']' || isItem(text)) {
    throw new WorkflowFormatError('unsupported', no, 'anchors, aliases, tags, flow mappings and block scalars are not supported: quote the value');
  }
  if (text.includes(': ') || text.endsWith(':') || text.includes(' #')) {
    throw new WorkflowFormatError('malformed', no, 'an ambiguous plain value: quote it');
  }
  return text;
}

function unescape(s, no) {
  let b = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\') {
      b += c;
      continue;
    }
    if (++i >= s.length) throw new WorkflowFormatError('malformed', no, 'a dangling escape');
    const e = s[i];
    if (e === '"' || e === '\\' || e === '/') b += e;
    else if (e === 'n') b += '\n';
    else if (e === 't') b += '\t';
    else if (e === 'u') {
      const hex = s.substring(i + 1, i + 5);
      // (char) Integer.parseInt(hex, 16), exactly: four characters, an optional sign, hex digits
      if (hex.length !== 4 || !/^[+-]?[0-9A-Fa-f]+$/.test(hex)) {
        throw new WorkflowFormatError('malformed', no, 'a bad \\u escape');
      }
      b += String.fromCharCode(parseInt(hex, 16) & 0xffff);
      i += 4;
    } else {
      throw new WorkflowFormatError('malformed', no, 'only \\" \\\\ \\/ \\n \\t \\uXXXX escapes are supported');
    }
  }
  return b;
}
