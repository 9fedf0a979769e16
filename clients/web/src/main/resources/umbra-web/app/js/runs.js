// Run records in the page (docs/web.md, "Plans, inbox, runs and workflows"; docs/agents.md, "Run records"):
// every `umbra run`, agent session and workflow run this member may see — ids, kind, outcome, exit
// status, times and byte counts — and one run's details: its machine, the relay channel that
// started it (whose opener the relay's `relay.channel_opened` audit event names), start and end,
// and for a workflow run each step's status, exit status, duration and byte counts. The platform
// holds no transcript to show: that stays on the machine (`umbra agent-session transcript`).

import { paths } from './api.js';
import { channelOpener } from './audit.js';
import { el, fillRows, printable, setText } from './view.js';

let state = null; // {api, workspace, machines, members}

function $(id) {
  return document.getElementById(id);
}

export function enableRuns(api, workspace, machines = []) {
  state = { api, workspace, machines, members: [] };
  $('run-detail').hidden = true;
  api.all(paths.members(workspace)).then((m) => (state.members = m), () => {});
  return listRuns();
}

/** The machines' names, once the page has listed them. */
export function runMachines(machines) {
  if (state) state.machines = machines;
}

const machineName = (id) => (state.machines.find((m) => m.id === id) || {}).name || id;

export async function listRuns() {
  const runs = await state.api.all(paths.runs(state.workspace));
  const items = runs.map((r) =>
    Object.assign({}, r, {
      what: r.kind === 'workflow' && r.workflow ? r.workflow.name + ' v' + r.workflow.version : r.runtime || '',
    }),
  );
  fillRows('runs-body', items, ['kind', 'what', 'outcome', 'exit_status', 'started_at', 'duration_ms', 'bytes_in', 'bytes_out']);
  [...$('runs-body').children].forEach((tr, i) => {
    const b = el('button', { type: 'button', 'data-run-open': runs[i].id }, 'Details');
    b.addEventListener('click', () => openRun(runs[i].id).catch((e) => setText('runs-error', e.message)));
    tr.append(el('td', {}, b));
  });
  setText('runs-note', items.length === 0 ? 'no run recorded yet' : items.length + ' run(s)');
}

/** One run's record in the details panel (numbers and ids only: never a command line or output). */
export async function openRun(id) {
  const r = await state.api.get(paths.run(state.workspace, id));
  const what = r.kind === 'workflow' && r.workflow ? 'workflow ' + r.workflow.name + ' v' + r.workflow.version : r.kind + (r.runtime ? ' ' + r.runtime : '');
  const facts = [
    ['Run', r.id],
    ['What', what],
    ['Machine', machineName(r.machine_id) + ' (' + r.machine_id + ')'],
    ['Who', 'relay channel ' + r.channel + ' (looking up who opened it in the audit log…)'],
    ['Outcome', r.outcome + (r.reason ? ' (' + r.reason + ')' : '') + ', exit status ' + r.exit_status],
    ['Started', r.started_at],
    ['Ended', r.ended_at + ' (' + r.duration_ms + ' ms)'],
    ['Bytes', r.bytes_in + ' in, ' + r.bytes_out + ' out'],
  ];
  $('run-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-fact': k.toLowerCase() }, printable(v))]));
  fillRows('run-steps-body', (r.workflow && r.workflow.steps) || [], ['id', 'status', 'exit_status', 'duration_ms', 'bytes_in', 'bytes_out']);
  $('run-steps').hidden = !r.workflow;
  $('run-detail').dataset.run = r.id;
  $('run-detail').hidden = false;
  $('run-detail').scrollIntoView({ block: 'nearest' });
  await showOpener(r);
}

/** Who opened the run's relay channel: its relay.channel_opened audit event's actor (admins read the log). */
async function showOpener(r) {
  const cell = document.querySelector('#run-facts dd[data-fact=who]');
  let text;
  try {
    const a = await channelOpener(state.api, state.workspace, r.channel, Date.parse(r.started_at));
    const name = a && a.kind === 'member' ? (state.members.find((m) => m.account_id === a.id) || {}).name : null;
    text = a
      ? (name ? name + ' ' : '') + '(' + a.kind + ':' + a.id + ') opened relay channel ' + r.channel + ' at ' + a.time
      : 'relay channel ' + r.channel + ' (no relay.channel_opened event of it near the start in the audit log)';
  } catch (e) {
    text = 'relay channel ' + r.channel + ' (who opened it is in the audit log: ' + e.message + ')';
  }
  if ($('run-detail').dataset.run !== r.id) return;
  cell.textContent = printable(text);
  cell.dataset.looked = 'done';
}
