// A workflow's page: its DAG with live progress per step, every attempt
// with its outcome and reason, the last events, errors in plain words.
import { api, follow } from './api.js';
import { h, badge, bar, num, time, stamp, duration, plain, toast } from './ui.js';
import { curveChart, graphChart } from './figures.js';

const ended = (s) => s === 'finished' || s === 'failed' || s === 'stopped';
const KEEP_EVENTS = 25;

const pct = (v) => (v === null || v === undefined) ? '–' : `${num(v * 100, 1)} %`;

// result shows a finished step's summary: for a train step the model's
// test scores beside the baselines' and the verdict, else its plain facts.
function result(s) {
  const r = s.result;
  if (s.kind === 'train' && r.test) {
    const rows = [['model (' + (r.model || 'gnn') + ')', r.test], ...Object.entries(r.baselines || {})];
    return h('details', { class: 'meta', open: true }, h('summary', {}, 'Model'),
      h('table', { class: 'result' },
        h('thead', {}, h('tr', {}, ['', 'test accuracy', 'macro F1', 'log loss', 'n'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.map(([name, sc]) => h('tr', {}, h('th', { scope: 'row' }, name.replace(/_/g, ' ')),
          h('td', { class: 'num' }, pct(sc.accuracy)), h('td', { class: 'num' }, pct(sc.macro_f1)), h('td', { class: 'num' }, sc.log_loss === null || sc.log_loss === undefined ? '–' : num(sc.log_loss, 3)), h('td', { class: 'num' }, num(sc.n)))))),
      h('p', { class: r.beats_baselines ? '' : 'plain' }, r.verdict || ''),
      h('div', {}, `${r.epochs} epochs (best ${r.best_epoch}) on ${r.graph || 'the graph'}`),
      Object.entries(r.artifacts || {}).map(([k, v]) => h('div', {}, `${k}: `, h('code', {}, v))));
  }
  const facts = Object.entries(r).filter(([, v]) => v !== null && typeof v !== 'object');
  return facts.length ? h('details', { class: 'meta' }, h('summary', {}, 'Result'), facts.map(([k, v]) => h('div', {}, `${k.replace(/_/g, ' ')}: ${typeof v === 'number' ? num(v, Number.isInteger(v) ? 0 : 3) : v}`))) : '';
}

export function workflowPage(root, id, signal) {
  let wf = null;
  const events = [];
  const head = h('div');
  const dag = h('div', { class: 'dag', id: 'dag', 'aria-label': 'steps' });
  const figs = h('div', { class: 'figs', id: 'figures' });
  const drawn = new Map(); // figure -> the step attempt it shows, drawn once
  const attempts = h('tbody');
  const evlist = h('tbody');
  root.append(head,
    h('h2', {}, 'Steps'), dag, figs,
    h('h2', {}, 'Attempts'), h('div', { class: 'card' }, h('table', { id: 'attempts' },
      h('thead', {}, h('tr', {}, ['Step', 'Attempt', 'Run', 'Started', 'Ended', 'Outcome', 'Reason'].map((t) => h('th', { scope: 'col' }, t)))), attempts)),
    h('h2', {}, 'Last events'), h('div', { class: 'card' }, h('table', { id: 'events' },
      h('thead', {}, h('tr', {}, ['Time', 'Event', 'Step', 'State', 'Detail'].map((t) => h('th', { scope: 'col' }, t)))), evlist)));

  function render() {
    const act = [];
    if (!ended(wf.state)) act.push(h('button', { class: 'danger', id: 'stop', disabled: wf.state === 'stopping', onclick: () => change('stop', 'POST') }, 'Stop'));
    else {
      if (wf.state !== 'finished') act.push(h('button', { class: 'secondary', id: 'retry', onclick: () => change('retry', 'POST') }, 'Retry failed steps'));
      act.push(h('button', { class: 'secondary', id: 'delete', onclick: del }, 'Delete'));
    }
    head.replaceChildren(
      h('h1', {}, 'Workflow ', h('code', {}, wf.id), ' ', badge(wf.state)),
      h('p', { class: 'muted' }, `${(wf.request.symbols || []).join(', ')} · ${(wf.request.types || []).join(', ')}`,
        wf.request.time_range ? ` · ${wf.request.time_range}` : ' · live', ` · created ${stamp(wf.created)}`, wf.owner ? ` · by ${wf.owner.username || wf.owner.subject}` : ''),
      wf.error ? h('p', { class: 'plain', role: 'alert' }, plain(wf.error)) : '',
      h('div', { class: 'row' }, act));
    // Columns by depth in the DAG (a step after others goes right of them).
    const depth = new Map();
    const byID = new Map(wf.steps.map((s) => [s.id, s]));
    const d = (s) => depth.get(s.id) ?? (depth.set(s.id, 0), depth.set(s.id, Math.max(0, ...(s.after || []).map((a) => byID.has(a) ? d(byID.get(a)) + 1 : 0))), depth.get(s.id));
    wf.steps.forEach(d);
    const cols = [];
    for (const s of wf.steps) (cols[depth.get(s.id)] ||= []).push(s);
    dag.replaceChildren(...cols.map((c, i) => h('div', { class: 'col' }, h('h3', {}, i === 0 ? 'first' : `then (${i})`), c.map(card))));
    attempts.replaceChildren(...wf.steps.flatMap((s) => (s.attempts || []).map((a) => h('tr', {},
      h('td', {}, s.id), h('td', { class: 'num' }, a.n), h('td', {}, h('code', {}, a.run_id)), h('td', {}, stamp(a.started)), h('td', {}, stamp(a.ended)),
      h('td', {}, a.outcome ? badge(a.outcome) : 'running'), h('td', {}, plain(a.message || a.error || ''))))));
    figures();
  }

  // figures draws a finished train step's training curve and a window of
  // the finished graph step's graph (GET .../graph), each once per result.
  function figures() {
    const show = (name, key, make) => {
      if (drawn.get(name)?.key === key) return;
      const fig = h('figure', { 'data-fig': name });
      drawn.get(name)?.fig.remove();
      drawn.set(name, { key, fig });
      figs.append(fig);
      make(fig);
    };
    const train = wf.steps.find((s) => s.kind === 'train' && s.state === 'finished' && s.result?.curve?.length);
    if (train) show('curve', `${train.id}.${train.attempts?.length}`, (fig) => fig.append(curveChart(train.result.curve, train.result.best_epoch) || '', h('figcaption', {}, `${train.id}: loss per epoch`)));
    const graph = wf.steps.find((s) => s.kind === 'graph' && s.state === 'finished');
    if (graph) show('graph', `${graph.id}.${graph.attempts?.length}`, (fig) => api(`/api/v1/workflows/${encodeURIComponent(id)}/graph`).then((g) =>
      fig.append(graphChart(g) || '', h('figcaption', {}, `${g.graph}: ${g.truncated ? `a window of ${g.vertices.length} of ${num(g.nodes)} vertices` : `${num(g.nodes)} vertices`}, ${num(g.edges)} edges`)))
      .catch((e) => fig.append(h('figcaption', {}, `graph: ${e.message}`))));
  }

  function card(s) {
    const pct = s.state === 'finished' ? 100 : s.percent || 0;
    const le = s.last_event;
    return h('div', { class: `step s-${s.state}`, 'data-step': s.id, 'data-state': s.state },
      h('div', {}, h('b', {}, s.kind), ' ', s.symbol || '', ' ', h('span', { class: 'muted' }, s.type || ''), ' ', badge(s.state)),
      bar(pct, `${s.id} progress`),
      h('div', { class: 'meta' }, `${num(s.records)} records · ${num(pct, 0)} % · ${s.rate ? num(s.rate, 0) + '/s' : '–/s'} · ETA ${duration(s.eta_seconds)}`),
      s.queue_position ? h('div', { class: 'meta' }, `waiting for a slot: #${s.queue_position} in the queue`) : '',
      s.retry_at ? h('div', { class: 'meta' }, `next attempt at ${time(s.retry_at)}`) : '',
      le ? h('div', { class: 'meta' }, `last event ${le.status} at ${time(le.at)}${le.message ? ': ' + le.message : ''}`) : '',
      s.error ? h('div', { class: 'plain' }, plain(s.error)) : '',
      s.result ? result(s) : '');
  }

  function note(ev, step, state, detail) {
    events.unshift(h('tr', {}, h('td', {}, time(Date.now())), h('td', {}, ev), h('td', {}, step || ''), h('td', {}, state ? badge(state) : ''), h('td', {}, detail || '')));
    events.length = Math.min(events.length, KEEP_EVENTS);
    evlist.replaceChildren(...events);
  }

  async function change(verb, method) {
    try { wf = await api(`/api/v1/workflows/${encodeURIComponent(id)}/${verb}`, { method }); render(); if (verb === 'retry') start(); } catch (e) { toast(`${verb}: ${e.message}`); }
  }
  async function del() {
    if (!confirm(`Delete workflow ${id}?`)) return;
    try { await api(`/api/v1/workflows/${encodeURIComponent(id)}`, { method: 'DELETE' }); location.hash = '#/workflows'; } catch (e) { toast(`delete: ${e.message}`); }
  }

  let over = false;
  function start() {
    over = false;
    follow(`/api/v1/workflows/${encodeURIComponent(id)}/events`, (ev, d) => {
      if (ev === 'workflow') { wf = d.workflow; render(); note(ev, '', wf.state, 'whole workflow'); }
      else if ((ev === 'step' || ev === 'progress') && wf) {
        wf = { ...wf, state: d.state, error: d.error, steps: wf.steps.map((s) => s.id === d.step.id ? d.step : s) };
        render();
        if (ev === 'step') note(ev, d.step.id, d.step.state, plain(d.step.error || d.step.last_event?.message || ''));
        else note(ev, d.step.id, d.step.state, `${num(d.step.records)} records`);
      } else if (ev === 'end') { over = true; note(ev, '', d.state, 'the workflow ended'); api(`/api/v1/workflows/${encodeURIComponent(id)}`).then((w) => { wf = w; render(); }).catch(() => {}); }
    }, signal, { done: () => over, onError: (e) => { if (e.status === 404) { over = true; head.replaceChildren(h('h1', {}, 'Workflow not found'), h('p', { class: 'plain' }, e.message)); } else note('error', '', '', e.message); } });
  }
  start();
}
