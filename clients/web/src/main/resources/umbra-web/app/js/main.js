// The page's wiring: sign-in with an API token, this browser as a device of the workspace (keys,
// request, verification code, verified credential), machines and devices lists (revoke, approve,
// reject), the vault, the audit log (docs/web.md).

import { connect, paths } from './api.js';
import { approveDevice, rejectDevice } from './approval.js';
import { disableConversations, enableConversations, sendMessage } from './conversations.js';
import { forgetMessaging } from './msg-store.js';
import { applyFilter, openAudit, verifyAudit } from './audit.js';
import { attachSession, detachSession, disableAgentSessions, enableAgentSessions, listAgentSessions, nextTranscriptPage, sendPrompt, startSession, transcriptPage } from './agent-sessions.js';
import { enableInbox, listInbox } from './inbox.js';
import { editPlan, enablePlans, listPlans, planComment, planRevise, planVerdict, showChanges, showVersion } from './plans.js';
import { enableRuns, listRuns, runMachines } from './runs.js';
import { enableWorkflows } from './workflows.js';
import { deviceCodePayload, verificationCode } from './codes.js';
import { createDevice, signFields, signedRequest } from './device.js';
import { deleteDevice, loadDevice, saveDevice } from './device-store.js';
import { checkKeysetEnvelope, workspaceSigningKey } from './envelope.js';
import { credentialVerdict, verifiedWebttyKey, verifyChain } from './trust.js';
import { disableRecordings, enableRecordings, exportRecording, listRecordings, pauseRecording, playRecording, searchRecording, seekRecording, setSpeed } from './recordings.js';
import { attachTerminal, closeTerminal, disableTerminal, enableTerminal, joinTerminal, listLiveSessions, openTerminal, requestControl, shareTerminal, shareWithMember, takeControl } from './terminal.js';
import { disableVault, enableVault, wireVault } from './vault.js';
import { el, fillRows, printable, setText, show } from './view.js';

const POLL_MS = 1500;

let api = null; // holds the API token in its closure; nothing else does
let workspace = null;
let device = null;
let trusted = false; // this browser's credential and envelope verified (it may sign revocations)
let pollTimer = null;
let credential = null; // this browser's verified device credential (its proofs carry it)

function $(id) {
  return document.getElementById(id);
}

function fail(where, e) {
  setText(where, e && e.message ? e.message : String(e));
}

function setStatus(status, text) {
  $('device-status').dataset.status = status;
  setText('device-status', text);
}

async function signIn(event) {
  event.preventDefault();
  const input = $('token');
  const token = input.value.trim();
  input.value = '';
  setText('signin-error', '');
  if (!/^umb_[A-Za-z0-9_-]{59}$/.test(token)) {
    setText('signin-error', 'that is not an API token (umb_… , 63 characters)');
    return;
  }
  const candidate = connect(token);
  let me;
  try {
    me = await candidate.get(paths.me);
  } catch (e) {
    setText('signin-error', e.status === 401 ? 'the control plane refused this API token' : e.message);
    return;
  }
  api = candidate;
  setText('who', 'signed in as ' + me.name);
  document.body.dataset.state = 'signed-in';
  show('signin', false);
  const workspaces = await api.all(paths.workspaces);
  $('workspace-select').replaceChildren(...workspaces.map((w) => el('option', { value: w.id }, printable(w.name))));
  show('workspace', true);
  if (workspaces.length === 0) {
    setText('workspace-note', 'this account belongs to no workspace');
    return;
  }
  await openWorkspace(workspaces[0].id);
}

async function openWorkspace(workspaceId) {
  clearTimeout(pollTimer);
  workspace = workspaceId;
  device = (await loadDevice(workspaceId)) || null;
  show('device', true);
  show('machines', true);
  show('devices', true);
  show('audit', true);
  setText('audit-error', '');
  openAudit(api, workspaceId).catch((e) => fail('audit-error', e)); // the tail runs on
  for (const id of ['plans', 'inbox', 'runs', 'workflows']) show(id, true);
  enablePlans(api, workspaceId).catch((e) => fail('plans-error', e));
  enableInbox(api, workspaceId).catch((e) => fail('inbox-error', e));
  enableRuns(api, workspaceId).catch((e) => fail('runs-error', e));
  await Promise.all([refreshDevice(), refreshLists()]);
  await openWorkflows();
}

/** The workflows panel: signatures are checked against this browser's pinned workspace key. */
async function openWorkflows() {
  const [machines, members] = await Promise.all([api.all(paths.machines(workspace)), api.all(paths.members(workspace)).catch(() => [])]);
  runMachines(machines);
  await enableWorkflows({ api, workspace, device, trusted, machines, members }).catch((e) => fail('workflows-error', e));
}

/** The keyset chain verified from this browser's pin (pinned on first sight). */
async function verifiedKeyset() {
  const chain = await api.get(paths.keyset(workspace));
  if (!chain.keysets || chain.keysets.length === 0) return null;
  const v = await verifyChain(chain, workspace, device ? device.rootSigningKey : null);
  if (device && !device.rootSigningKey) {
    device.rootSigningKey = v.root;
    await saveDevice(device);
  }
  return v;
}

async function refreshDevice() {
  trusted = false;
  credential = null;
  setText('device-error', '');
  show('device-enrol', !device);
  if (!device) {
    setStatus('none', 'not a device of this workspace');
    ['device-id', 'device-code', 'device-key', 'device-keyset', 'device-next'].forEach((id) => setText(id, ''));
    return;
  }
  setText('device-id', device.deviceId);
  setText('device-key', device.ed25519PublicKey);
  let keyset;
  try {
    keyset = await verifiedKeyset();
  } catch (e) {
    setStatus('refused', 'refused: ' + e.message);
    return;
  }
  if (!keyset) {
    setStatus('refused', 'the workspace no longer has a keyset: refusing');
    return;
  }
  const code = await verificationCode(
    deviceCodePayload(workspace, device.ed25519PublicKey, device.p256PublicKey, keyset.root),
  );
  setText('device-code', code);
  let row;
  try {
    row = await api.get(paths.device(workspace, device.deviceId));
  } catch (e) {
    if (e.status === 404) {
      setStatus('unknown', 'not a device of the workspace (the request was rejected or never arrived)');
      show('device-forget', true);
      return;
    }
    throw e;
  }
  show('device-forget', row.status !== 'pending' && row.status !== 'trusted');
  if (row.status === 'pending') {
    setStatus('pending', 'waiting for approval');
    setText(
      'device-next',
      'On a trusted device: umbra devices approve ' + device.deviceId + ' --code ' + code +
        ' (or, in a trusted browser, Approve this device in its Devices list with this code)',
    );
    pollTimer = setTimeout(() => refreshDevice().catch((e) => fail('device-error', e)), POLL_MS);
    return;
  }
  setText('device-next', '');
  if (row.status === 'revoked') {
    setStatus('revoked', 'revoked from the workspace');
    return;
  }
  const verdict = await credentialVerdict(row, workspace, keyset.current, {
    ed25519: device.ed25519PublicKey,
    p256: device.p256PublicKey,
  });
  if (verdict !== 'yes') {
    setStatus('untrusted', 'listed as ' + row.status + ' but no credential of the current workspace key: not trusted');
    return;
  }
  try {
    const sealed = await api.get(paths.deviceEnvelope(workspace, device.deviceId));
    await checkKeysetEnvelope(sealed, device, keyset.current);
  } catch (e) {
    setText('device-keyset', 'refused: ' + e.message);
    setStatus('untrusted', 'the credential verifies but the keyset envelope does not: not trusted');
    return;
  }
  setText('device-keyset', 'version ' + keyset.current.version + ', opened in this browser: the verified workspace key');
  setStatus('trusted', 'trusted (credential verified under workspace key version ' + keyset.current.version + ')');
  trusted = true;
  credential = row.credential;
  await publishWebttyKey(row);
  await refreshLists();
}

/**
 * Publishes this browser's WebTTY key binding (umbra-device-webtty-key/v1, signed by its device key)
 * unless the control plane serves exactly it already, so a teammate's session can grant it output.
 */
async function publishWebttyKey(row) {
  if ((await verifiedWebttyKey(row, workspace)) === device.x25519PublicKey) return;
  const binding = await signFields(device.signing.privateKey, {
    type: 'umbra-device-webtty-key/v1',
    workspace_id: workspace,
    device_id: device.deviceId,
    x25519_public_key: device.x25519PublicKey,
    issued_at: new Date().toISOString(),
  });
  await api.put(paths.deviceWebttyKey(workspace, device.deviceId), { webtty_key: binding });
}

async function requestTrust() {
  setText('device-error', '');
  const name = $('device-name').value.trim() || 'browser';
  const d = await createDevice(workspace, name);
  const chain = await api.get(paths.keyset(workspace));
  if (!chain.keysets || chain.keysets.length === 0) {
    throw new Error('this workspace has no keyset yet: an owner runs `umbra device trust` on the CLI first');
  }
  d.rootSigningKey = (await verifyChain(chain, workspace, null)).root;
  await api.post(paths.devices(workspace), { request: await signedRequest(d, Date.now()) });
  await saveDevice(d);
  device = d;
  await Promise.all([refreshDevice(), refreshLists()]);
}

async function forgetDevice() {
  clearTimeout(pollTimer);
  disableConversations();
  await deleteDevice(workspace);
  await forgetMessaging(workspace);
  device = null;
  show('device-forget', false);
  await refreshDevice();
}

async function refreshLists() {
  const machines = await api.all(paths.machines(workspace));
  fillRows(
    'machines-body',
    machines.map((m) => ({ name: m.name, status: m.status, os: m.os, last_seen_at: m.last_seen_at || 'never' })),
    ['name', 'status', 'os', 'last_seen_at'],
  );
  let keyset = null;
  try {
    keyset = await verifiedKeyset();
  } catch (e) {
    keyset = null;
  }
  const rows = await api.all(paths.devices(workspace));
  const items = [];
  const viewers = []; // trusted devices with a binding they signed: who a session may be granted to
  let sharer = null; // this browser's credential and binding as served: what a controller's share names
  for (const r of rows) {
    const verified = keyset ? await credentialVerdict(r, workspace, keyset.current, null) : 'no';
    items.push({ name: r.name, kind: r.kind, status: r.status, verified, id: r.id });
    const x25519 = verified === 'yes' && device ? await verifiedWebttyKey(r, workspace) : null;
    const vouch = { credential: r.credential, webtty_key: r.webtty_key };
    if (x25519 && r.id !== device.deviceId) viewers.push({ id: r.id, name: r.name, accountId: r.account_id, x25519, vouch });
    if (x25519 && r.id === device.deviceId && x25519 === device.x25519PublicKey) sharer = vouch;
  }
  if (trusted) {
    // members by name, to share with all of a member's trusted devices (the control plane's word on
    // whose device is whose, as for `umbra tty share --with <member>`; each device still verified)
    const members = await api.all(paths.members(workspace)).catch(() => []);
    enableTerminal(api, workspace, device, credential, machines, viewers, { members, sharer });
    enableRecordings(api, workspace, device);
    enableAgentSessions(api, workspace, device, credential, machines);
    enableVault({ api, workspace, device, keyset: verifiedKeyset });
    enableConversations(api, workspace, device).catch((e) => fail('messages-error', e));
  } else {
    disableTerminal();
    disableRecordings();
    disableAgentSessions();
    disableVault();
    disableConversations();
  }
  fillRows('devices-body', items, ['name', 'kind', 'status', 'verified', 'id']);
  [...$('devices-body').children].forEach((tr, i) => {
    const r = rows[i];
    const cell = el('td', { 'data-col': 'actions' });
    if (trusted && r.status === 'trusted' && r.id !== device.deviceId) {
      const b = el('button', { type: 'button', 'data-revoke': r.id }, 'Revoke');
      b.addEventListener('click', guarded('device-error', () => revokeDevice(r.id)));
      cell.append(b);
    }
    if (trusted && r.status === 'pending') cell.append(...decisionControls(r.id));
    tr.append(cell);
  });
}

/**
 * A pending device's controls for a trusted browser: its verification code as the new device shows
 * it, Approve (refused in the page unless the code matches the keys its request names) and Reject.
 */
function decisionControls(id) {
  const code = el('input', { 'data-approve-code': id, placeholder: 'its verification code', spellcheck: 'false', size: '22' });
  const approve = el('button', { type: 'button', 'data-approve': id }, 'Approve');
  const reject = el('button', { type: 'button', 'data-reject': id }, 'Reject');
  const ctx = { api, workspace, device, keyset: verifiedKeyset };
  approve.addEventListener(
    'click',
    guarded('device-error', async () => {
      setText('device-error', '');
      await approveDevice(ctx, id, code.value);
      await refreshLists();
    }),
  );
  reject.addEventListener(
    'click',
    guarded('device-error', async () => {
      setText('device-error', '');
      await rejectDevice(ctx, id);
      await refreshLists();
    }),
  );
  return [code, approve, reject];
}

/**
 * Revokes another device as `umbra devices revoke` does: an umbra-device-revocation/v1 signed by
 * the workspace signing key, which this trusted browser opens from its envelope for this one
 * signature (a non-extractable key, dropped after) and never keeps.
 */
async function revokeDevice(id) {
  const keyset = await verifiedKeyset();
  const sealed = await api.get(paths.deviceEnvelope(workspace, device.deviceId));
  const revocation = await signFields(await workspaceSigningKey(sealed, device, keyset.current), {
    type: 'umbra-device-revocation/v1',
    workspace_id: workspace,
    device_id: id,
    revoked_at: new Date().toISOString(),
  });
  await api.post(paths.device(workspace, id) + '/revocation', { revocation });
  await refreshLists();
}

function guarded(where, action) {
  return (event) => {
    if (event) event.preventDefault();
    action(event).catch((e) => fail(where, e));
  };
}

$('signin-form').addEventListener('submit', (e) => signIn(e).catch((err) => fail('signin-error', err)));
$('workspace-select').addEventListener('change', guarded('device-error', () => openWorkspace($('workspace-select').value)));
$('device-request').addEventListener('click', guarded('device-error', requestTrust));
$('device-forget').addEventListener('click', guarded('device-error', forgetDevice));
$('audit-filter').addEventListener('submit', guarded('audit-error', applyFilter));
$('audit-verify').addEventListener('click', guarded('audit-error', verifyAudit));
$('plans-refresh').addEventListener('click', guarded('plans-error', listPlans));
$('plan-approve').addEventListener('click', guarded('plans-error', () => planVerdict('approve')));
$('plan-request-changes').addEventListener('click', guarded('plans-error', () => planVerdict('request_changes')));
$('inbox-refresh').addEventListener('click', guarded('inbox-error', listInbox));
$('runs-refresh').addEventListener('click', guarded('runs-error', listRuns));
$('plan-version').addEventListener('change', guarded('plans-error', showVersion));
$('plan-changes-button').addEventListener('click', guarded('plans-error', showChanges));
$('plan-comment-add').addEventListener('click', guarded('plans-error', planComment));
$('plan-edit').addEventListener('click', () => editPlan());
$('plan-revise-submit').addEventListener('click', guarded('plans-error', planRevise));
$('inbox-status').addEventListener('change', guarded('inbox-error', listInbox));
$('workflows-refresh').addEventListener('click', guarded('workflows-error', openWorkflows));
$('terminal-form').addEventListener('submit', guarded('terminal-error', openTerminal));
$('terminal-attach').addEventListener('click', guarded('terminal-error', attachTerminal));
$('terminal-join').addEventListener('click', guarded('terminal-error', joinTerminal));
$('terminal-request').addEventListener('click', guarded('terminal-error', async () => requestControl()));
$('terminal-take').addEventListener('click', guarded('terminal-error', async () => takeControl()));
$('terminal-close').addEventListener('click', guarded('terminal-error', async () => closeTerminal()));
$('terminal-sessions').addEventListener('click', guarded('terminal-error', listLiveSessions));
$('terminal-share').addEventListener('click', guarded('terminal-error', shareTerminal));
$('terminal-share-member-button').addEventListener('click', guarded('terminal-error', shareWithMember));
$('agent-list').addEventListener('click', guarded('agent-error', listAgentSessions));
$('agent-form').addEventListener('submit', guarded('agent-error', startSession));
$('agent-attach').addEventListener('click', guarded('agent-error', () => attachSession(null, 1)));
$('agent-detach').addEventListener('click', guarded('agent-error', async () => detachSession()));
$('agent-prompt-form').addEventListener('submit', guarded('agent-error', sendPrompt));
$('agent-transcript-form').addEventListener('submit', guarded('agent-error', () => transcriptPage(1)));
$('agent-next').addEventListener('click', guarded('agent-error', nextTranscriptPage));
$('recordings-list').addEventListener('click', guarded('recordings-error', listRecordings));
$('recording-play').addEventListener('click', () => playRecording());
$('recording-pause').addEventListener('click', () => pauseRecording());
$('recording-speed').addEventListener('change', () => setSpeed(Number($('recording-speed').value)));
$('recording-seek').addEventListener('input', () => seekRecording(Number($('recording-seek').value)));
$('recording-search').addEventListener('submit', (e) => {
  e.preventDefault();
  searchRecording($('recording-query').value);
});
$('recording-export').addEventListener('click', () => exportRecording());
$('message-form').addEventListener('submit', guarded('messages-error', sendMessage));
$('lists-refresh').addEventListener('click', guarded('device-error', refreshLists));
wireVault();
document.body.dataset.state = 'signed-out';
