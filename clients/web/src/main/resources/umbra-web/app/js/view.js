// Rendering: every string from the network becomes a text node (textContent), never markup. The
// page's CSP also sets require-trusted-types-for 'script' with no policy, so an innerHTML
// assignment of a string throws instead of parsing it.

/** An element with text content and attributes; `children` are nodes or strings (as text). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

/** Text for display: control characters shown as visible escapes (\u0007), so none reaches the screen raw. */
export function printable(value) {
  return String(value ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function setText(id, value) {
  document.getElementById(id).textContent = printable(value);
}

/** Replaces a table body's rows: one row per item, one cell per column (text only). */
export function fillRows(tbodyId, items, columns) {
  const body = document.getElementById(tbodyId);
  body.replaceChildren(
    ...items.map((item) => el('tr', {}, ...columns.map((c) => el('td', { 'data-col': c }, printable(item[c]))))),
  );
}

/** A select's options: the active machines by name (as text), keeping the one chosen. */
export function fillMachines(selectId, machines) {
  const select = document.getElementById(selectId);
  const chosen = select.value;
  select.replaceChildren(
    ...machines
      .filter((m) => m.status === 'active')
      .map((m) => {
        const o = document.createElement('option');
        o.value = m.id;
        o.textContent = printable(m.name);
        return o;
      }),
  );
  if (chosen) select.value = chosen;
}

export function show(id, visible) {
  document.getElementById(id).hidden = !visible;
}
