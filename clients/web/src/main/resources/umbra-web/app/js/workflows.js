// Workflows in the page (docs/web.md, "Plans, inbox, runs and workflows"; docs/agents.md, "Workflows"): the list, one
// definition's text (shown as text, never markup), its version and signer, and whether its
// signature verifies IN THIS BROWSER against the workspace key it pinned: the keyset chain from the
// pinned root, the signer's credential under the current key, and the `umbra-workflow/v1` payload
// rebuilt from the served text. A definition altered in the control plane's database is shown as
// "signature does not verify". Also the revisions proposed from repository files (with their
// difference to the stored text), conflicts, and the workflow's runs. A trusted browser may sign a
// proposed revision as the next version with its own device key, as `umbra workflows sign` does.

import { paths } from './api.js';
import { diffText } from './diff.js';
import { openRun } from './runs.js';
import { credentialVerdict, parseSigned, verifyChain } from './trust.js';
import { signText, verifyText } from './signatures.js';
import { el, fillRows, printable, setText } from './view.js';
import { parseDefinition, workflowPayload } from './workflow-definition.js';

let state = null; // {api, workspace, device, trusted, machines, members}

function $(id) {
  return document.getElementById(id);
}

export function enableWorkflows(ctx) {
  state = Object.assign({ machines: [], members: [] }, ctx);
  $('workflow-detail').hidden = true;
  return listWorkflows();
}

const machineName = (id) => (state.machines.find((m) => m.id === id) || {}).name || id;
const memberName = (account) => (state.members.find((m) => m.account_id === account) || {}).name || account;

export async function listWorkflows() {
  const [list, proposals] = await Promise.all([
    state.api.get(paths.workflows(state.workspace)),
    state.api.get(paths.workflowProposals(state.workspace)).catch(() => ({ items: [] })),
  ]);
  const items = (list.items || []).map((w) => {
    const mine = (proposals.items || []).filter((p) => p.name === w.name);
    return Object.assign({}, w, {
      state: w.deleted ? 'deleted' : 'v' + w.version,
      proposed: mine.length === 0 ? '' : mine.some((p) => p.conflict) ? 'CONFLICT' : 'proposed',
      by: memberName(w.set_by),
    });
  });
  fillRows('workflows-body', items, ['name', 'state', 'signer_device_id', 'by', 'updated_at', 'proposed']);
  [...$('workflows-body').children].forEach((tr, i) => {
    const b = el('button', { type: 'button', 'data-workflow-open': items[i].name }, 'Open');
    b.addEventListener('click', () => openWorkflow(items[i].name).catch((e) => setText('workflows-error', e.message)));
    tr.append(el('td', {}, b));
  });
  setText('workflows-note', items.length === 0 ? 'no workflow stored' : items.length + ' workflow(s)');
}

/**
 * Whether the stored definition `wf` verifies against this browser's pinned workspace trust:
 * {verdict, text}, verdict one of verifies, bad_signature, unknown_signer, malformed,
 * no_pinned_trust, deleted (WorkflowRefusal's codes where they apply).
 */
export async function verifyWorkflow(api, workspace, device, wf) {
  if (wf.deleted || !wf.yaml || !wf.signature) return { verdict: 'deleted', text: 'deleted: nothing to run' };
  if (!device || !device.rootSigningKey) {
    return { verdict: 'no_pinned_trust', text: 'cannot check the signature: this browser has pinned no workspace key yet (ask to trust this browser)' };
  }
  let definition;
  try {
    definition = parseDefinition(wf.yaml);
    if (definition.name !== wf.name) throw new Error('the text names another workflow');
  } catch (e) {
    return { verdict: 'malformed', text: 'signature does not verify: the definition does not parse (' + e.message + ')' };
  }
  const keyset = await verifyChain(await api.get(paths.keyset(workspace)), workspace, device.rootSigningKey);
  let row = null;
  try {
    row = await api.get(paths.device(workspace, wf.signer_device_id));
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  if (!row || (await credentialVerdict(row, workspace, keyset.current, null)) !== 'yes') {
    return { verdict: 'unknown_signer', text: 'signature does not verify: the signer is not a device the workspace key vouches for now' };
  }
  const signerKey = parseSigned(row.credential, 'umbra-device-credential/v1').ed25519_public_key;
  const payload = workflowPayload(workspace, wf.version, wf.signer_device_id, definition);
  if (!(await verifyText(signerKey, payload, wf.signature))) {
    return { verdict: 'bad_signature', text: 'signature does not verify: this text is not what its signer signed (changed after signing?): do not run it' };
  }
  return {
    verdict: 'verifies',
    text: 'signature verifies in this browser: signed by ' + row.name + ', trusted under workspace key version ' + keyset.current.version,
  };
}

export async function openWorkflow(name) {
  setText('workflows-error', '');
  const wf = await state.api.get(paths.workflow(state.workspace, name));
  const detail = $('workflow-detail');
  detail.dataset.name = wf.name;
  detail.dataset.verdict = 'checking';
  setText('workflow-title', wf.name + ' (version ' + wf.version + ')');
  setText('workflow-signer', wf.signer_device_id);
  setText('workflow-set-by', memberName(wf.set_by) + ', ' + wf.updated_at);
  $('workflow-yaml').textContent = String(wf.yaml ?? ''); // the text as stored: text, never markup
  setText('workflow-verdict', 'checking the signature in this browser…');
  detail.hidden = false;
  const v = await verifyWorkflow(state.api, state.workspace, state.device, wf).catch((e) => ({
    verdict: 'refused',
    text: 'signature does not verify: ' + e.message,
  }));
  setText('workflow-verdict', v.text);
  $('workflow-verdict').dataset.verdict = v.verdict;
  detail.dataset.verdict = v.verdict;
  await Promise.all([showProposals(wf), showRuns(wf.name)]);
}

async function showProposals(wf) {
  const list = await state.api.get(paths.workflowProposals(state.workspace)).catch(() => ({ items: [] }));
  const mine = (list.items || []).filter((p) => p.name === wf.name);
  $('workflow-proposals').replaceChildren(
    ...mine.map((p) =>
      el(
        'li',
        { 'data-proposal-machine': p.machine_id, 'data-conflict': String(p.conflict) },
        printable(
          (p.conflict ? 'CONFLICT' : 'proposed') + ' from machine ' + machineName(p.machine_id) + ', edited from version ' +
            p.base_version + ', ' + p.updated_at + ' (unsigned: not runnable; sign it with umbra workflows sign ' + wf.name + ')',
        ),
        el('pre', { class: 'mono diff' }, diffText(wf.yaml ?? '', p.yaml)),
        ...signControl(wf, p),
      ),
    ),
  );
  setText('workflow-proposals-note', mine.length === 0 ? 'none' : mine.length + ' proposal(s) from repository files');
}

/** A trusted browser's button to sign proposal `p` as the next version of `wf` (nothing otherwise). */
function signControl(wf, p) {
  if (!state.trusted || !state.device) return [];
  const b = el('button', { type: 'button', 'data-proposal-sign': p.machine_id }, 'Sign this revision as version ' + (wf.version + 1) + ' with this browser');
  b.addEventListener('click', () => signProposal(wf.name, p).catch((e) => setText('workflows-error', e.message)));
  return [b];
}

/**
 * Signs the proposal's text as the next version with this browser's device key (a trusted
 * device's: the control plane and every daemon check its credential) and stores it, as `umbra
 * workflows sign` does after showing the same difference. The text must parse and name `name`.
 */
async function signProposal(name, p) {
  setText('workflows-error', '');
  const definition = parseDefinition(p.yaml);
  if (definition.name !== name) throw new Error('the proposal defines ' + definition.name + ', not ' + name);
  let current = 0;
  try {
    current = (await state.api.get(paths.workflow(state.workspace, name))).version;
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  const version = current + 1;
  const payload = workflowPayload(state.workspace, version, state.device.deviceId, definition);
  const signature = await signText(state.device.signing.privateKey, payload);
  await state.api.put(paths.workflow(state.workspace, name), {
    version,
    yaml: p.yaml,
    signature,
    signer_device_id: state.device.deviceId,
  });
  await listWorkflows();
  await openWorkflow(name);
}

async function showRuns(name) {
  const runs = (await state.api.all(paths.runs(state.workspace))).filter((r) => r.kind === 'workflow' && r.workflow && r.workflow.name === name);
  const items = runs.map((r) => Object.assign({}, r, { version: 'v' + r.workflow.version, machine: machineName(r.machine_id) }));
  fillRows('workflow-runs-body', items, ['started_at', 'version', 'machine', 'outcome', 'reason', 'exit_status']);
  [...$('workflow-runs-body').children].forEach((tr, i) => {
    const b = el('button', { type: 'button', 'data-run-open': runs[i].id }, 'Details');
    b.addEventListener('click', () => openRun(runs[i].id).catch((e) => setText('workflows-error', e.message)));
    tr.append(el('td', {}, b));
  });
}
