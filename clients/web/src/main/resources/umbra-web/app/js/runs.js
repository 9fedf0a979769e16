// Run records in the page (docs/web.md, "Plans, inbox, runs and workflows"; docs/agents.md, "Run records"):
// every `umbra run`, agent session and workflow run this member may see — ids, kind, outcome, exit
// status, times and byte counts — and one run's details: its machine, the relay channel that
// started it (whose opener the relay's `relay.channel_opened` audit event names), start and end,
// and for a workflow run each step's status, exit status, duration and byte counts. The platform
// holds no transcript to show: that stays on the machine (`umbra agent-session transcript`).

import { paths } from './api.js';
import { el, fillRows, printable, setText } from './view.js';

let state = null; // {api, workspace, machines}

function $(id) {
  return document.getElementById(id);
}

export function enableRuns(api, workspace, machines = []) {
  state = { api, workspace, machines };
  $('run-detail').hidden = true;
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
    ['Who', 'relay channel ' + r.channel + ' (its opener: the audit event relay.channel_opened of this channel)'],
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
}
