// The workflows page: the list with live state (each running workflow's
// event stream, the list read again every few seconds for the others),
// filters by state and symbol, the "new workflow" form and stop / delete.
import { api, follow } from './api.js';
import { settings } from './auth.js';
import { h, badge, bar, stamp, toast } from './ui.js';

const STATES = ['pending', 'running', 'stopping', 'finished', 'failed', 'stopped'];
const ended = (s) => s === 'finished' || s === 'failed' || s === 'stopped';
// MAX_FOLLOWED leaves room in API_MAX_STREAMS (8 a client by default) for
// a workflow or market page in another tab.
const MAX_FOLLOWED = 4;

export function workflowsPage(root, signal) {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  const state = h('select', { id: 'f-state' }, h('option', { value: '' }, 'any'), STATES.map((s) => h('option', { value: s, selected: q.get('status') === s }, s)));
  const symbol = h('input', { id: 'f-symbol', placeholder: 'BTCUSDT', size: 12, value: q.get('symbol') || '' });
  const body = h('tbody');
  const rows = new Map(); // id -> {wf, tr}
  const followed = new Map(); // id -> AbortController

  root.append(
    h('h1', {}, 'Workflows'),
    newForm(() => load()),
    h('div', { class: 'card' },
      h('div', { class: 'row' },
        h('label', { for: 'f-state' }, 'State', state),
        h('label', { for: 'f-symbol' }, 'Symbol', symbol)),
      h('table', { id: 'workflows' },
        h('thead', {}, h('tr', {}, ['Workflow', 'Symbols', 'Types', 'Steps', 'State', 'Progress', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))),
        body)));
  state.addEventListener('change', () => load());
  symbol.addEventListener('change', () => load());

  function render(wf) {
    const steps = wf.steps || [];
    const done = steps.filter((s) => s.state === 'finished').length;
    const pct = steps.length ? steps.reduce((a, s) => a + (s.state === 'finished' ? 100 : s.percent || 0), 0) / steps.length : 0;
    const tr = h('tr', { 'data-id': wf.id, 'data-state': wf.state },
      h('td', {}, h('a', { href: `#/workflows/${encodeURIComponent(wf.id)}` }, wf.id)),
      h('td', {}, (wf.request.symbols || []).join(', ')),
      h('td', {}, (wf.request.types || []).join(', ')),
      h('td', { class: 'num' }, `${done}/${steps.length}`),
      h('td', {}, badge(wf.state)),
      h('td', {}, wf.request.time_range ? bar(pct, `progress of ${wf.id}`) : h('span', { class: 'muted' }, 'live stream')),
      h('td', {}, stamp(wf.created)),
      h('td', {}, actions(wf)));
    const old = rows.get(wf.id);
    if (old) old.tr.replaceWith(tr); else body.append(tr);
    rows.set(wf.id, { wf, tr });
  }

  function actions(wf) {
    if (!ended(wf.state)) {
      return h('button', { class: 'danger', 'aria-label': `stop ${wf.id}`, disabled: wf.state === 'stopping', onclick: async () => {
        try { render(await api(`/api/v1/workflows/${wf.id}/stop`, { method: 'POST' })); } catch (e) { toast(`stop ${wf.id}: ${e.message}`); }
      } }, 'Stop');
    }
    return h('button', { class: 'secondary', 'aria-label': `delete ${wf.id}`, onclick: async () => {
      if (!confirm(`Delete workflow ${wf.id}? Its market data collections are kept.`)) return;
      try { await api(`/api/v1/workflows/${wf.id}`, { method: 'DELETE' }); rows.get(wf.id)?.tr.remove(); rows.delete(wf.id); } catch (e) { toast(`delete ${wf.id}: ${e.message}`); }
    } }, 'Delete');
  }

  // watch follows a running workflow's event stream into its row.
  function watch(id) {
    if (followed.has(id) || followed.size >= MAX_FOLLOWED) return;
    const ctl = new AbortController();
    signal.addEventListener('abort', () => ctl.abort(), { once: true });
    followed.set(id, ctl);
    let over = false;
    follow(`/api/v1/workflows/${encodeURIComponent(id)}/events`, (ev, d) => {
      const row = rows.get(id);
      if (ev === 'workflow') render(d.workflow);
      else if ((ev === 'step' || ev === 'progress') && row) {
        const wf = { ...row.wf, state: d.state, error: d.error, steps: row.wf.steps.map((s) => s.id === d.step.id ? d.step : s) };
        render(wf);
      } else if (ev === 'end') {
        over = true;
        if (row) render({ ...rows.get(id).wf, state: d.state });
      }
    }, ctl.signal, { done: () => over || ctl.signal.aborted, onError: () => {} });
    const stopWatching = setInterval(() => { if (over) { clearInterval(stopWatching); followed.delete(id); ctl.abort(); } }, 1000);
    signal.addEventListener('abort', () => clearInterval(stopWatching), { once: true });
  }

  async function load() {
    const p = new URLSearchParams({ limit: '100' });
    if (state.value) p.set('status', state.value);
    if (symbol.value.trim()) p.set('symbol', symbol.value.trim().toUpperCase());
    history.replaceState(null, '', '#/workflows?' + new URLSearchParams([...p].filter(([k]) => k !== 'limit')));
    try {
      const page = await api('/api/v1/workflows?' + p);
      const seen = new Set(page.workflows.map((w) => w.id));
      for (const [id, r] of rows) if (!seen.has(id)) { r.tr.remove(); rows.delete(id); }
      for (const wf of page.workflows.slice().reverse()) {
        if (!followed.has(wf.id)) render(wf);
        if (!ended(wf.state)) watch(wf.id);
      }
      if (!page.workflows.length && !rows.size) body.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No workflows match.')));
      else body.querySelector('td[colspan]')?.parentElement.remove();
    } catch (e) { toast(`workflows: ${e.message}`); }
  }
  load();
  const poll = setInterval(load, 5000);
  signal.addEventListener('abort', () => clearInterval(poll), { once: true });
}

// newForm is the "new workflow" form; the API's problem+json errors are
// shown next to the field they name.
function newForm(created) {
  const cfg = settings();
  const errs = {};
  const err = (name) => (errs[name] = h('div', { class: 'err', id: `e-${name}`, 'aria-live': 'polite' }));
  const symbols = h('input', { id: 'n-symbols', name: 'symbols', placeholder: 'BTCUSDT, ETHUSDT', 'aria-describedby': 'e-symbols', size: 22 });
  const types = h('input', { id: 'n-types', name: 'types', list: 'n-typelist', placeholder: 'api_trades, api_candles_1m', 'aria-describedby': 'e-types', size: 30 });
  const range = h('input', { id: 'n-range', name: 'time_range', placeholder: '2024-08-01:2024-08-02', 'aria-describedby': 'e-time_range', size: 24 });
  const steps = (cfg.steps || []).map((s) => h('input', { type: 'checkbox', name: 'steps', value: s, id: `n-step-${s}`, checked: (cfg.default_steps || []).includes(s) }));
  const options = h('textarea', { id: 'n-options', name: 'options', rows: 2, cols: 40, placeholder: '{"train": {"GNN_EPOCHS": "50"}}', 'aria-describedby': 'e-options' });
  const general = err('form');
  const fields = { symbols, types, time_range: range, options };
  const form = h('form', { class: 'card', id: 'new-workflow', 'aria-label': 'new workflow', novalidate: true },
    h('h2', {}, 'New workflow'),
    h('datalist', { id: 'n-typelist' }, (cfg.types || []).map((t) => h('option', { value: t }))),
    h('div', { class: 'row' },
      h('label', { for: 'n-symbols' }, 'Symbols', symbols, err('symbols')),
      h('label', { for: 'n-types' }, 'Types', types, err('types')),
      h('label', { for: 'n-range' }, 'Time range (UTC days, start:end)', range, err('time_range')),
      h('fieldset', { 'aria-describedby': 'e-steps' }, h('legend', {}, 'Steps'), steps.map((c) => h('label', { for: c.id }, c, c.value)), err('steps')),
      h('label', { for: 'n-options' }, 'Options (JSON, per step kind)', options, err('options')),
      h('button', { type: 'submit', id: 'n-submit' }, 'Create')),
    general);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const [k, el] of Object.entries(errs)) { el.textContent = ''; fields[k]?.removeAttribute('aria-invalid'); }
    const list = (s) => s.split(/[\s,]+/).filter(Boolean);
    const req = { symbols: list(symbols.value.toUpperCase()), types: list(types.value), steps: steps.filter((c) => c.checked).map((c) => c.value) };
    if (range.value.trim()) req.time_range = range.value.trim();
    if (options.value.trim()) {
      try { req.options = JSON.parse(options.value); } catch (x) { show('options', `not JSON: ${x.message}`); return; }
    }
    try {
      const wf = await api('/api/v1/workflows', { method: 'POST', body: req, key: crypto.randomUUID?.() });
      toast(`created ${wf.id}`);
      created(wf);
    } catch (x) {
      show(fieldName(x.field), x.message);
    }
  });
  function show(name, msg) {
    (errs[name] || general).textContent = msg;
    fields[name]?.setAttribute('aria-invalid', 'true');
    (fields[name] || form).focus?.();
  }
  return form;
}

// fieldName maps a problem's field (symbols[0], options.train.X, ...) to a
// form field.
function fieldName(f) {
  const base = (f || '').split(/[.[]/)[0];
  return ['symbols', 'types', 'time_range', 'steps', 'options'].includes(base) ? base : 'form';
}
