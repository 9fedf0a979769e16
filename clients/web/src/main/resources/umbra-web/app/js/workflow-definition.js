// A workflow definition's schema and canonical form, a port of shared/crypto WorkflowDefinition and
// WorkflowDocument (docs/agents.md, "Definition format", "Signed form"): the page parses the stored
// text, writes every default out, and rebuilds the `umbra-workflow/v1` payload a trusted device
// signed. A text changed after signing (an UPDATE in PostgreSQL) gives other bytes, so the
// signature fails here as it does on the daemon. Replayed against shared/crypto/conformance/workflow.json.

import { canonicalize } from './canonical-json.js';
import { parseYaml, WorkflowFormatError } from './workflow-yaml.js';

const MAX_STEPS = 50;
const MAX_INPUTS = 32;
const MAX_ARGS = 64;
const MAX_ARG = 4096;
const MAX_VALUE = 1024;
const MAX_PROMPT = 4096;
const MAX_TIMEOUT_SECONDS = 86400;
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ID = /^[a-z][a-z0-9_-]{0,31}$/;
const RUNTIME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const REFERENCE = /\$\{inputs\.([a-z][a-z0-9_-]{0,31})}/g;
const COMPARISON = /^inputs\.([a-z][a-z0-9_-]{0,31}) (==|!=) '([^']{0,1024})'$/;

const invalid = (message) => new WorkflowFormatError('invalid_value', 0, message);
const bounded = (s) => (s.length > 32 ? s.substring(0, 32) + '...' : s);

function keys(m, what, required, optional) {
  for (const k of m.keys()) {
    if (!required.includes(k) && !optional.includes(k)) {
      throw new WorkflowFormatError('unknown_key', 0, what + " has an unknown key '" + bounded(k) + "'");
    }
  }
  for (const k of required) {
    if (!m.has(k)) throw new WorkflowFormatError('missing_key', 0, what + " needs '" + k + "'");
  }
}

function string(o, what, max) {
  if (typeof o !== 'string' || o.length === 0 || o.length > max) {
    throw invalid(what + ' must be a text of 1 to ' + max + ' characters');
  }
  return o;
}

const optional = (o, what, max) => (o === undefined ? null : string(o, what, max));

function bool(o, what) {
  if (o === undefined) return false;
  if (o === 'true' || o === 'false') return o === 'true';
  throw invalid(what + ' must be true or false');
}

function references(s, declared) {
  for (const r of s.matchAll(REFERENCE)) {
    if (!declared.has(r[1])) throw invalid('an argument names an input that is not declared');
  }
  if (s.replace(REFERENCE, '').includes('${')) throw invalid("'${' only as ${inputs.<name>}");
  return s;
}

function input(name, o) {
  if (!ID.test(name)) throw invalid('an input name must match [a-z][a-z0-9_-]{0,31}');
  if (!(o instanceof Map)) throw invalid("input '" + name + "' must be a mapping");
  keys(o, "input '" + name + "'", [], ['description', 'default', 'required', 'values']);
  const values = [];
  if (o.has('values')) {
    const l = o.get('values');
    if (!Array.isArray(l) || l.length === 0 || l.length > 50) {
      throw invalid('values of input ' + "'" + name + "' must be a list of 1 to 50 values");
    }
    for (const v of l) values.push(string(v, "a value of input '" + name + "'", MAX_VALUE));
  }
  const dflt = optional(o.get('default'), 'default', MAX_VALUE);
  if (dflt !== null && values.length > 0 && !values.includes(dflt)) {
    throw invalid("the default of input '" + name + "' is not one of its values");
  }
  return {
    name,
    description: optional(o.get('description'), 'description', MAX_VALUE),
    default: dflt,
    required: bool(o.get('required'), 'required'),
    values,
  };
}

function condition(text, declared) {
  if (text === 'success()') return { op: 'success' };
  if (text === 'failure()') return { op: 'failure' };
  if (text === 'always()') return { op: 'always' };
  const c = COMPARISON.exec(text);
  if (!c) throw invalid("if must be success(), failure(), always() or inputs.<name> == '<value>' (or !=)");
  if (!declared.has(c[1])) throw invalid('if names an input that is not declared');
  return { op: c[2] === '==' ? 'eq' : 'ne', input: c[1], value: c[3] };
}

function step(o, declared) {
  if (!(o instanceof Map)) throw invalid('a step must be a mapping');
  const agent = o.has('agent');
  keys(
    o,
    'step',
    agent ? ['id', 'machine', 'agent'] : ['id', 'machine', 'run'],
    agent ? ['prompt', 'if', 'timeout_seconds', 'continue_on_failure'] : ['cwd', 'if', 'timeout_seconds', 'continue_on_failure'],
  );
  const id = string(o.get('id'), 'id', 32);
  if (!ID.test(id)) throw invalid('a step id must match [a-z][a-z0-9_-]{0,31}');
  const machine = string(o.get('machine'), 'machine', 64);
  const s = { id, machine };
  if (agent) {
    s.agent = string(o.get('agent'), "agent of step '" + id + "'", 32);
    if (!RUNTIME.test(s.agent)) throw invalid("agent of step '" + id + "' must be a runtime id [a-z0-9][a-z0-9_-]{0,31}");
    const prompt = optional(o.get('prompt'), "prompt of step '" + id + "'", MAX_PROMPT);
    if (prompt !== null) s.prompt = references(prompt, declared);
  } else {
    const l = o.get('run');
    if (!Array.isArray(l) || l.length === 0 || l.length > MAX_ARGS) {
      throw invalid("run of step '" + id + "' must be a list of 1 to " + MAX_ARGS + ' arguments');
    }
    s.run = l.map((a) => references(string(a, "an argument of step '" + id + "'", MAX_ARG), declared));
  }
  const cwd = optional(o.get('cwd'), 'cwd', MAX_VALUE);
  if (cwd !== null) s.cwd = references(cwd, declared);
  s.timeout_seconds = 0;
  if (o.has('timeout_seconds')) {
    const t = string(o.get('timeout_seconds'), 'timeout_seconds', 6);
    if (!/^[1-9][0-9]{0,5}$/.test(t) || Number(t) > MAX_TIMEOUT_SECONDS) {
      throw invalid('timeout_seconds must be 1 to ' + MAX_TIMEOUT_SECONDS);
    }
    s.timeout_seconds = Number(t);
  }
  s.if = o.has('if') ? condition(string(o.get('if'), 'if', 1100), declared) : { op: 'success' };
  s.continue_on_failure = bool(o.get('continue_on_failure'), 'continue_on_failure');
  return s;
}

/** The canonical form of a definition's text (WorkflowDefinition.fields()): every default written out. */
export function parseDefinition(yaml) {
  const root = parseYaml(yaml);
  keys(root, 'workflow', ['name', 'steps'], ['description', 'inputs']);
  const name = string(root.get('name'), 'name', 64);
  if (!NAME.test(name)) throw invalid("name must be lower-case letters, digits, '.', '_' or '-' (at most 64)");
  const def = { name };
  const description = optional(root.get('description'), 'description', MAX_VALUE);
  if (description !== null) def.description = description;
  def.inputs = {};
  const declared = new Set();
  if (root.has('inputs')) {
    const m = root.get('inputs');
    if (!(m instanceof Map) || m.size > MAX_INPUTS) throw invalid('inputs must be a mapping of at most ' + MAX_INPUTS + ' inputs');
    for (const [k, v] of m) {
      const i = input(k, v);
      declared.add(i.name);
      const f = { required: i.required, values: i.values };
      if (i.description !== null) f.description = i.description;
      if (i.default !== null) f.default = i.default;
      def.inputs[i.name] = f;
    }
  }
  const list = root.get('steps');
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_STEPS) {
    const tooMany = Array.isArray(list) && list.length > MAX_STEPS;
    throw new WorkflowFormatError(tooMany ? 'size' : 'invalid_value', 0, 'steps must be a list of 1 to ' + MAX_STEPS + ' steps');
  }
  const ids = new Set();
  def.steps = list.map((o) => {
    const s = step(o, declared);
    if (ids.has(s.id)) throw invalid("two steps have the id '" + s.id + "'");
    ids.add(s.id);
    return s;
  });
  return def;
}

/** The canonical `umbra-workflow/v1` payload (WorkflowDocument.payload) of a parsed definition. */
export function workflowPayload(workspaceId, version, signerDeviceId, definition) {
  return canonicalize({
    type: 'umbra-workflow/v1',
    workspace_id: workspaceId,
    name: definition.name,
    version,
    signer_device_id: signerDeviceId,
    definition,
  });
}
