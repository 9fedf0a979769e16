// The inbox in the page (docs/web.md, "Plans, inbox and runs"; docs/agents.md, "Inbox"): the open
// decision items this member may see — raised by an agent or by an agent session's runtime on a
// machine — and a decision for each: approve or deny, one of the options, or a free answer. The
// decision reaches the waiting agent at once (its long poll wakes on the item's bus channel).

import { paths } from './api.js';
import { el, fillRows, setText } from './view.js';

let state = null; // {api, workspace}

function $(id) {
  return document.getElementById(id);
}

export function enableInbox(api, workspace) {
  state = { api, workspace };
  return listInbox();
}

/** The answers a member may give to an item of this kind. */
function answers(item) {
  if (item.kind === 'approve') return ['approve', 'deny'];
  if (item.kind === 'choose') return item.options || [];
  return null; // a free answer
}

function decisionCell(item) {
  const cell = el('td', {});
  const choices = answers(item);
  if (choices === null) {
    const input = el('input', { 'data-inbox-answer': item.id, maxlength: '4096', spellcheck: 'false' });
    const send = el('button', { type: 'button', 'data-inbox-decide': item.id, 'data-answer': '' }, 'Answer');
    send.addEventListener('click', () => decide(item.id, input.value));
    cell.append(input, send);
  } else {
    for (const a of choices) {
      const b = el('button', { type: 'button', 'data-inbox-decide': item.id, 'data-answer': a }, a);
      b.addEventListener('click', () => decide(item.id, a));
      cell.append(b);
    }
  }
  return cell;
}

export async function listInbox() {
  const list = await state.api.get(paths.inbox(state.workspace) + '?status=open');
  const items = list.items || [];
  fillRows('inbox-body', items, ['kind', 'question', 'default', 'deadline']);
  const rows = $('inbox-body').children;
  items.forEach((item, i) => rows[i].append(decisionCell(item)));
  setText('inbox-note', items.length === 0 ? 'nothing waits for a decision' : items.length + ' open item(s)');
}

async function decide(id, answer) {
  setText('inbox-error', '');
  try {
    const item = await state.api.post(paths.inboxDecision(state.workspace, id), { answer });
    setText('inbox-decided', 'decided: ' + item.answer);
    await listInbox();
  } catch (e) {
    setText('inbox-error', e.message);
  }
}
