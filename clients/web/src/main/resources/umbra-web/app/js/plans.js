// Plans under review in the page (docs/web.md, "Plans, inbox and runs"; docs/agents.md, "Plans"):
// the plans this member may see, one plan's current version (title, markdown body shown as text,
// steps, comments, verdicts), and the verdict buttons. Every string is rendered as text, never as
// markup: a plan's markdown is the author's words, not this page's.

import { paths } from './api.js';
import { el, fillRows, printable, setText } from './view.js';

let state = null; // {api, workspace, shown}

function $(id) {
  return document.getElementById(id);
}

export function enablePlans(api, workspace) {
  state = { api, workspace, shown: null };
  $('plan-detail').hidden = true;
  return listPlans();
}

export async function listPlans() {
  const list = await state.api.get(paths.plans(state.workspace));
  const items = list.items || [];
  fillRows('plans-body', items, ['title', 'version', 'status', 'updated_at']);
  const rows = $('plans-body').children;
  items.forEach((p, i) => {
    const open = el('button', { type: 'button', 'data-plan-open': p.id }, 'Open');
    open.addEventListener('click', () => openPlan(p.id).catch((e) => setText('plans-error', e.message)));
    rows[i].append(el('td', {}, open));
  });
  setText('plans-note', items.length === 0 ? 'no plan you may see' : items.length + ' plan(s)');
}

export async function openPlan(id) {
  const full = await state.api.get(paths.plan(state.workspace, id));
  state.shown = full.plan.id;
  const v = full.shown;
  setText('plan-title', v.title + ' (version ' + v.version + ', ' + full.plan.status + ')');
  $('plan-body').textContent = String(v.body ?? ''); // new lines kept; text, never markup
  $('plan-steps').replaceChildren(...(v.steps || []).map((s) => el('li', {}, printable(s))));
  $('plan-comments').replaceChildren(
    ...(full.comments || []).map((c) => el('li', {}, printable('v' + c.version + ' ' + c.author_kind + ': ' + c.body))),
  );
  $('plan-verdicts').replaceChildren(
    ...(full.verdicts || []).map((x) => el('li', {}, printable('v' + x.version + ' ' + x.verdict + (x.note ? ': ' + x.note : '')))),
  );
  $('plan-detail').dataset.status = full.plan.status;
  $('plan-detail').dataset.plan = full.plan.id;
  $('plan-detail').hidden = false;
}

/** A verdict on the plan shown: approve or request_changes (with the note typed, if any). */
export async function planVerdict(verdict) {
  if (!state || !state.shown) return;
  const note = $('plan-note').value.trim();
  const body = note ? { verdict, note } : { verdict };
  await state.api.post(paths.planVerdicts(state.workspace, state.shown), body);
  $('plan-note').value = '';
  await openPlan(state.shown);
  await listPlans();
}
