// Plans under review in the page (docs/web.md, "Plans, inbox, runs and workflows"; docs/agents.md, "Plans"):
// the plans this member may see, one plan's versions (any version shown, and what changed from the
// one before as a line difference), its comments (read and add), verdicts, the teams it is shared
// with (changed where the control plane lets this member: admins, the plan's author), a new
// version published from the page, and the verdict buttons. Every string is rendered as text,
// never as markup: a plan's markdown is the author's words, not this page's.

import { paths } from './api.js';
import { diffText } from './diff.js';
import { el, fillRows, printable, setText } from './view.js';

let state = null; // {api, workspace, shown, current, members, teams, full}

function $(id) {
  return document.getElementById(id);
}

export function enablePlans(api, workspace) {
  state = { api, workspace, shown: null, current: null, members: [], teams: [], full: null };
  $('plan-detail').hidden = true;
  api.all(paths.members(workspace)).then((m) => (state.members = m), () => {});
  api.all(paths.teams(workspace)).then((t) => (state.teams = t), () => {});
  return listPlans();
}

const who = (kind, id) => (kind === 'member' ? (state.members.find((m) => m.account_id === id) || {}).name || id : kind + ' ' + id);

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

/** Shows plan `id` at `version` (default: its current one). */
export async function openPlan(id, version) {
  const q = version ? '?version=' + encodeURIComponent(version) : '';
  const full = await state.api.get(paths.plan(state.workspace, id) + q);
  state.shown = full.plan.id;
  state.current = full.plan.version;
  state.full = full;
  const v = full.shown;
  setText('plan-title', v.title + ' (version ' + v.version + ' of ' + full.plan.version + ', ' + full.plan.status + ')');
  $('plan-body').textContent = String(v.body ?? ''); // new lines kept; text, never markup
  $('plan-steps').replaceChildren(...(v.steps || []).map((s) => el('li', {}, printable(s))));
  setText('plan-author', who(v.author_kind, v.author_id) + ', ' + v.created_at);
  $('plan-version').replaceChildren(
    ...Array.from({ length: full.plan.version }, (_, i) => full.plan.version - i).map((n) =>
      el('option', n === v.version ? { value: n, selected: 'selected' } : { value: n }, 'version ' + n + (n === full.plan.version ? ' (current)' : '')),
    ),
  );
  setText('plan-older', v.version === full.plan.version ? '' : 'an older version: a verdict applies to the current version ' + full.plan.version);
  $('plan-changes').textContent = '';
  $('plan-comments').replaceChildren(
    ...(full.comments || []).map((c) =>
      el('li', { 'data-comment': c.id }, printable('v' + c.version + ' ' + who(c.author_kind, c.author_id) + ' (' + c.created_at + '): ' + c.body)),
    ),
  );
  $('plan-verdicts').replaceChildren(
    ...(full.verdicts || []).map((x) =>
      el('li', {}, printable('v' + x.version + ' ' + x.verdict + ' by ' + who('member', x.account_id) + (x.note ? ': ' + x.note : ''))),
    ),
  );
  showShares(full.team_ids || []);
  $('plan-detail').dataset.status = full.plan.status;
  $('plan-detail').dataset.plan = full.plan.id;
  $('plan-detail').dataset.version = String(v.version);
  $('plan-detail').hidden = false;
}

/** The workspace's teams, checked where the plan is shared with them; a change is a PUT or DELETE of the share. */
function showShares(teamIds) {
  const names = new Map(state.teams.map((t) => [t.id, t.name]));
  const ids = [...new Set([...state.teams.map((t) => t.id), ...teamIds])];
  $('plan-shares').replaceChildren(
    ...ids.map((id) => {
      const box = el('input', Object.assign({ type: 'checkbox', 'data-share-team': id }, teamIds.includes(id) ? { checked: 'checked' } : {}));
      box.addEventListener('change', () => changeShare(id, box.checked).catch((e) => setText('plans-error', e.message)));
      return el('label', {}, box, printable(names.get(id) || id));
    }),
  );
  setText('plan-shares-note', ids.length === 0 ? 'the workspace has no team to share with' : '');
}

async function changeShare(teamId, shared) {
  setText('plans-error', '');
  const path = paths.planShare(state.workspace, state.shown, teamId);
  try {
    if (shared) await state.api.put(path);
    else await state.api.del(path);
  } finally {
    await openPlan(state.shown, Number($('plan-version').value) || undefined);
  }
}

/** The version chosen in the select. */
export function showVersion() {
  return openPlan(state.shown, Number($('plan-version').value));
}

/** What changed from the version before the one shown, line by line (title, steps and body). */
export async function showChanges() {
  const v = state.full.shown;
  if (v.version <= 1) {
    $('plan-changes').textContent = 'version 1: nothing before it';
    return;
  }
  const before = (await state.api.get(paths.plan(state.workspace, state.shown) + '?version=' + (v.version - 1))).shown;
  const text = (x) => '# ' + x.title + '\n' + (x.steps || []).map((s, i) => i + 1 + '. ' + s).join('\n') + '\n\n' + x.body;
  $('plan-changes').textContent = 'from version ' + before.version + ' to ' + v.version + ':\n' + diffText(text(before), text(v));
}

export async function planComment() {
  const body = $('plan-comment').value;
  if (!state || !state.shown || body.trim() === '') return;
  await state.api.post(paths.planComments(state.workspace, state.shown), { body });
  $('plan-comment').value = '';
  await openPlan(state.shown);
}

/** Fills the new-version form with the version shown, to edit. */
export function editPlan() {
  const v = state.full.shown;
  $('plan-new-title').value = v.title;
  $('plan-new-body').value = v.body;
  $('plan-new-steps').value = (v.steps || []).join('\n');
}

/** Publishes the form as the plan's next version (the control plane lets its author or an admin). */
export async function planRevise() {
  const steps = $('plan-new-steps').value.split('\n').map((s) => s.trim()).filter((s) => s !== '');
  const full = await state.api.post(paths.planVersions(state.workspace, state.shown), {
    title: $('plan-new-title').value.trim(),
    body: $('plan-new-body').value,
    steps,
  });
  await openPlan(full.plan.id);
  await listPlans();
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
