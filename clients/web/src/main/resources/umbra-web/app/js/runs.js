// Run records in the page (docs/web.md, "Plans, inbox and runs"; docs/agents.md, "Run records"):
// every `umbra run`, agent session and workflow run this member may see — ids, kind, outcome, exit
// status, times and byte counts. The platform holds no transcript to show: that stays on the
// machine (`umbra agent-session transcript`).

import { paths } from './api.js';
import { fillRows, setText } from './view.js';

let state = null; // {api, workspace}

export function enableRuns(api, workspace) {
  state = { api, workspace };
  return listRuns();
}

export async function listRuns() {
  const list = await state.api.get(paths.runs(state.workspace));
  const items = (list.items || []).map((r) =>
    Object.assign({}, r, {
      what: r.kind === 'workflow' && r.workflow ? r.workflow.name + ' v' + r.workflow.version : r.runtime || '',
    }),
  );
  fillRows('runs-body', items, ['kind', 'what', 'outcome', 'exit_status', 'started_at', 'duration_ms', 'bytes_in', 'bytes_out']);
  setText('runs-note', items.length === 0 ? 'no run recorded yet' : items.length + ' run(s)');
}
