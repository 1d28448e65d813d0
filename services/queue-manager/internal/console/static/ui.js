// Small DOM and formatting helpers shared by the pages.

// h builds an element: h('td', {class: 'num'}, 'text', child...).
export function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
  return e;
}

export const badge = (state) => h('span', { class: `badge s-${state}` }, state);

export function bar(pct, label) {
  const p = Math.max(0, Math.min(100, pct || 0));
  return h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(p), 'aria-label': label || 'progress' }, h('i', { style: `width:${p}%` }));
}

// One formatter per number of decimals: making one per call (toLocaleString)
// costs more than the market page's whole frame.
const formats = [];
export function num(n, d = 0) {
  if (n === undefined || n === null || Number.isNaN(n)) return '–';
  formats[d] ||= new Intl.NumberFormat('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  return formats[d].format(n);
}
const two = (n) => (n < 10 ? '0' : '') + n;
// time is an epoch ms as the local hh:mm:ss.
export function time(t) {
  if (!t) return '–';
  const d = new Date(t);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
export const stamp = (t) => t ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) : '–';

export function duration(s) {
  if (!s || s < 0) return '–';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function toast(msg) {
  const t = document.getElementById('toast');
  const p = h('p', {}, msg);
  t.append(p);
  setTimeout(() => p.remove(), 6000);
}

// plain turns a step's error into words a person can act on; the original
// follows.
const reasons = [
  [/DeadlineExceeded/, 'It ran longer than its step kind may (STEP_DEADLINES) and was stopped.'],
  [/exited without reporting/, 'The worker ended without saying whether it finished: it was counted as a failed attempt.'],
  [/heartbeat|silent/i, 'The worker went silent on queue-events for too long and was presumed dead.'],
  [/not listed|not a symbol|does not list/i, 'The exchange does not know this symbol.'],
  [/removed after the stop grace period/, 'The worker did not stop by itself in time after the stop and was removed.'],
  [/stopped on request/, 'Stopped on request.'],
  [/refused its flags|configuration/i, 'The worker refused its configuration before starting: a retry cannot fix this.'],
  [/kafka|broker/i, 'The message broker could not be reached.'],
];
export function plain(err) {
  if (!err) return '';
  for (const [re, words] of reasons) if (re.test(err)) return `${words} (${err})`;
  return err;
}
