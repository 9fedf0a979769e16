// A line difference of two texts for the page (a plan's versions, a workflow proposal against the
// stored definition): the longest common subsequence of lines, bounded so a large text cannot make
// the page allocate without limit. Lines are returned as data and shown as text, never markup.

const MAX_CELLS = 4_100_000; // 16.4 MB of Int32 at most

/**
 * [{op: ' ' | '-' | '+', line}] from `before` to `after`, or null when the lines that differ are too
 * many to compare (the common first and last lines are matched first, so a small change in a long
 * text costs little; a workflow's 2000 lines against 2000 others still fit).
 */
export function lineDiff(before, after) {
  const a = String(before ?? '').split('\n');
  const b = String(after ?? '').split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const middle = middleDiff(a.slice(head, a.length - tail), b.slice(head, b.length - tail));
  if (middle === null) return null;
  const same = (lines) => lines.map((line) => ({ op: ' ', line }));
  return [...same(a.slice(0, head)), ...middle, ...same(a.slice(a.length - tail))];
}

function middleDiff(a, b) {
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) return null;
  const w = m + 1;
  const lcs = new Int32Array((n + 1) * w); // lcs[i][j]: of a[i..] and b[j..]
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: ' ', line: a[i++] });
      j++;
    } else if (i < n && (j >= m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
      out.push({ op: '-', line: a[i++] });
    } else {
      out.push({ op: '+', line: b[j++] });
    }
  }
  return out;
}

/** The difference as text lines ("- old", "+ new", "  same"), as `umbra workflows sign` prints it. */
export function diffText(before, after) {
  const d = lineDiff(before, after);
  if (d === null) return 'too large to compare in the page';
  return d.map((x) => x.op + ' ' + x.line).join('\n');
}
