// The Data page: the market-data collections the workflows' store steps
// write, with their counts (GET /api/v1/collections), and per symbol and
// type a strip of days coloured by the coverage ledger (GET
// /api/v1/coverage): present, degraded, missing or unknown, the holes
// listed with their reasons beneath.
import { api } from './api.js';
import { h, num } from './ui.js';

const DAY = 86400000, MAX_DAYS = 62, MAX_HOLES = 30;
const iso = (t) => new Date(t).toISOString().slice(0, 10);

export async function dataPage(root, signal) {
  const body = h('tbody');
  const note = h('p', { class: 'muted', id: 'd-note' }, 'Loading…');
  const strips = h('div', { id: 'd-coverage' });
  const legend = h('p', { class: 'legend' }, ...['present', 'degraded', 'missing', 'unknown'].map((s) => h('span', {}, h('i', { class: `c-${s}` }), s)));
  root.append(h('h1', {}, 'Data'),
    h('div', { class: 'card' }, h('h2', {}, 'Collections'), note, h('table', { id: 'd-collections' },
      h('thead', {}, h('tr', {}, ...['Collection', 'Symbol', 'Type', 'First day'].map((c) => h('th', { scope: 'col' }, c)),
        h('th', { class: 'num', scope: 'col' }, 'Documents'), h('th', { scope: 'col' }, 'Workflows'))), body)),
    h('div', { class: 'card' }, h('h2', {}, 'Coverage by day'), legend, strips));
  let list;
  try {
    list = await api('/api/v1/collections');
  } catch (e) {
    note.textContent = `collections: ${e.message}`;
    return;
  }
  if (signal.aborted) return;
  const cs = list.collections;
  note.textContent = cs.length ? (list.truncated ? `the first ${cs.length} collections` : `${cs.length} collection${cs.length === 1 ? '' : 's'}`) : 'No workflow stores data yet.';
  for (const c of cs) {
    body.append(h('tr', { 'data-name': c.name, 'data-count': c.count },
      h('td', {}, c.name), h('td', {}, c.symbol), h('td', {}, c.type), h('td', {}, c.day),
      h('td', { class: 'num' }, c.stored ? num(c.count) : 'not stored'),
      h('td', {}, ...c.workflows.flatMap((w, i) => [i ? ' ' : '', h('a', { href: `#/workflows/${encodeURIComponent(w)}` }, w)]))));
  }
  // One strip per symbol and type, from its first collection's day.
  const series = new Map();
  for (const c of cs) {
    const k = `${c.symbol} ${c.type}`, t = Date.parse(c.day);
    const s = series.get(k) || { symbol: c.symbol, type: c.type, first: t, last: t };
    s.first = Math.min(s.first, t); s.last = Math.max(s.last, t);
    series.set(k, s);
  }
  for (const s of series.values()) {
    if (signal.aborted) return;
    const sec = h('section', { class: 'cov', 'data-series': `${s.symbol} ${s.type}` }, h('h3', {}, `${s.symbol} ${s.type}`));
    strips.append(sec);
    const to = Math.min(s.first + MAX_DAYS * DAY, Math.floor(Date.now() / DAY) * DAY + DAY);
    try {
      const cov = await api(`/api/v1/coverage?symbol=${s.symbol}&type=${s.type}&from=${iso(s.first)}&to=${iso(Math.max(to, s.first + DAY))}`);
      sec.append(...strip(s, cov));
    } catch (e) {
      sec.append(h('p', { class: 'muted' }, `coverage: ${e.message}`));
    }
  }
}

// strip draws the days of a series' coverage answer and lists its holes.
function strip(s, cov) {
  const days = new Map(); // day start -> [present, degraded, missing]
  let lastSeen = s.last;
  for (const hr of cov.hours) {
    const d = Math.floor(hr.time / DAY) * DAY, c = days.get(d) || [0, 0, 0];
    c[hr.state === 'present' ? 0 : hr.state === 'degraded' ? 1 : 2]++;
    days.set(d, c);
    lastSeen = Math.max(lastSeen, d);
  }
  const ol = h('ol', { class: 'strip', 'aria-label': `${s.symbol} ${s.type} coverage by day` });
  for (let d = s.first; d <= lastSeen; d += DAY) {
    const [p, g, m] = days.get(d) || [0, 0, 0];
    const state = m ? 'missing' : g ? 'degraded' : p ? 'present' : 'unknown';
    const label = `${iso(d)}: ${state} (${p} present, ${g} degraded, ${m} missing, ${24 - p - g - m} unknown hours)`;
    ol.append(h('li', { class: `c-${state}`, 'data-day': iso(d), 'data-state': state, title: label }, h('span', { class: 'sr' }, label)));
  }
  const out = [ol, h('p', { class: 'muted' }, `${iso(s.first)} to ${iso(lastSeen)}, a square a day (UTC)`)];
  const holes = cov.holes || [];
  if (holes.length) {
    out.push(h('ul', { class: 'holes' }, ...holes.slice(0, MAX_HOLES).map((l) => h('li', {}, l)),
      holes.length > MAX_HOLES ? h('li', { class: 'muted' }, `and ${holes.length - MAX_HOLES} more`) : null));
  } else {
    out.push(h('p', { class: 'muted' }, 'No holes recorded.'));
  }
  return out;
}
