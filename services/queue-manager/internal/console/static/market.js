// The market page (Scenario 2): a symbol's live order book ladder with
// cumulative depth, the trade tape, 1 s or 1 m candles with volume, spread, mid,
// imbalance and rates, from GET /api/v1/market/{symbol}/stream, which
// queue-manager aggregates and throttles. "Start live stream" creates the
// ws workflow through the API; "Stop stream" stops it.
import { api, follow } from './api.js';
import { h, num, time, toast } from './ui.js';

const LEVELS = 12, TAPE = 30, CANDLES = 120;

// renderMs holds how long the page took to draw each of its last 1,000
// frames (ms, a ring from renderMs.next): the browser test reads it, and so
// can anyone in the developer tools.
const renderMs = globalThis.sfRenderMs = Object.assign(new Float64Array(1000), { next: 0, count: 0 });

export function marketPage(root, sym, signal) {
  const symbol = (sym || localStorage.getItem('sf.market') || 'BTCUSDT').toUpperCase();
  localStorage.setItem('sf.market', symbol);
  const input = h('input', { id: 'm-symbol', value: symbol, size: 12, 'aria-label': 'symbol' });
  const status = h('span', { id: 'm-status', class: 'badge s-pending' }, 'connecting');
  const startBtn = h('button', { id: 'm-start', onclick: startStream }, 'Start live stream');
  const stopBtn = h('button', { id: 'm-stop', class: 'danger', hidden: true, onclick: stopStream }, 'Stop stream');
  const stats = h('div', { class: 'stats', id: 'm-stats' });
  const ladder = h('tbody');
  const tape = h('tbody');
  const chart = h('canvas', { id: 'm-candles', role: 'img', 'aria-label': `${symbol} candles with volume` });
  // The span shown: 1 s or 1 m candles (the server sends both).
  let span = localStorage.getItem('sf.span') === '1m' ? '1m' : '1s';
  const spanBtns = ['1s', '1m'].map((s) => h('button', { type: 'button', class: 'secondary', id: `m-span-${s}`, 'aria-pressed': String(s === span),
    onclick: () => { span = s; localStorage.setItem('sf.span', s); for (const b of spanBtns) b.setAttribute('aria-pressed', String(b.id === `m-span-${s}`)); drawCandles(); } },
  s === '1s' ? '1 s' : '1 m'));
  const depth = h('canvas', { id: 'm-depth', role: 'img', 'aria-label': `${symbol} cumulative depth`, style: 'height:140px' });
  const form = h('form', { class: 'row', onsubmit: (e) => { e.preventDefault(); location.hash = `#/market/${input.value.trim().toUpperCase()}`; } },
    h('label', { for: 'm-symbol' }, 'Symbol', input), h('button', { type: 'submit', class: 'secondary' }, 'Watch'), startBtn, stopBtn, status);
  root.append(h('h1', {}, `Market ${symbol}`), h('div', { class: 'card' }, form, stats),
    h('div', { class: 'grid' },
      h('div', { class: 'card' }, h('h2', {}, 'Order book'), h('table', { class: 'ladder', id: 'm-ladder' },
        h('thead', {}, h('tr', {}, h('th', { class: 'num', scope: 'col' }, 'Price'), h('th', { class: 'num', scope: 'col' }, 'Quantity'), h('th', { class: 'num', scope: 'col' }, 'Cumulative'))), ladder), depth),
      h('div', { class: 'card tape' }, h('h2', {}, 'Trades'), h('table', { id: 'm-tape' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), h('th', { class: 'num', scope: 'col' }, 'Price'), h('th', { class: 'num', scope: 'col' }, 'Quantity'))), tape)),
      h('div', { class: 'card' }, h('div', { class: 'row' }, h('h2', {}, 'Candles'), h('span', { role: 'group', 'aria-label': 'candle span' }, ...spanBtns)), chart)));

  // Rows are made once and their text changed on each frame: making ~400
  // elements four times a second is most of what a frame would cost.
  const cell = (cls) => { const span = h('span'); return [h('td', { class: 'num' }, span), span]; };
  const ladderRow = () => {
    const [pt, p] = cell(), [qt, q] = cell(), bar = h('i', { class: 'depth' }), c = h('span');
    const tr = h('tr', { hidden: true }, pt, qt, h('td', { class: 'num' }, bar, c));
    return [tr, p, q, c, bar];
  };
  const askRows = Array.from({ length: LEVELS }, ladderRow), bidRows = Array.from({ length: LEVELS }, ladderRow);
  const mid = h('td', { colspan: 3, class: 'muted' });
  ladder.append(...askRows.map((r) => r[0]), h('tr', {}, mid), ...bidRows.map((r) => r[0]));
  const tapeRows = Array.from({ length: TAPE }, () => {
    const a = h('td'), b = h('td', { class: 'num' }), c = h('td', { class: 'num' });
    return [h('tr', { hidden: true }, a, b, c), a, b, c];
  });
  tape.append(...tapeRows.map((r) => r[0]));
  const statCells = [];
  const wfLink = h('a', { href: '#/workflows' });
  function setStats(pairs, wf) {
    if (!statCells.length) {
      for (const [k] of pairs) { const b = h('b'); statCells.push(b); stats.append(h('div', {}, h('span', { class: 'muted' }, k), b)); }
      stats.append(h('div', {}, h('span', { class: 'muted' }, 'Workflow'), h('b', {}, wfLink)));
    }
    pairs.forEach(([, v], i) => { statCells[i].textContent = v; });
    if (wfLink.textContent !== wf) { wfLink.textContent = wf; wfLink.href = `#/workflows/${wf}`; }
  }

  let workflow = '';
  const candles = new Map(), minutes = new Map(); // time -> candle, 1 s and 1 m
  let marks = []; // gaps and re-syncs on the timeline
  const trades = [];
  let frames = 0;

  function onFrame(f) {
    const t0 = performance.now();
    draw(f);
    renderMs[renderMs.next] = performance.now() - t0;
    renderMs.next = (renderMs.next + 1) % renderMs.length;
    renderMs.count++;
  }

  function draw(f) {
    frames++;
    workflow = f.workflow || '';
    status.textContent = f.live ? (f.synced ? 'live' : 'live, book re-syncing') : 'no live stream';
    status.className = `badge ${f.live ? (f.synced ? 's-finished' : 's-stopping') : 's-pending'}`;
    startBtn.hidden = f.live;
    stopBtn.hidden = !f.live;
    if (!f.live) return;
    setStats([
      ['Mid', num(f.mid, 2)], ['Spread', `${num(f.spread, 2)} (${num(f.mid ? f.spread / f.mid * 1e4 : 0, 2)} bp)`],
      ['Imbalance', num(f.imbalance, 3)], ['Trades/s', num(f.trades_per_sec, 1)], ['Book updates/s', num(f.book_per_sec, 1)],
      ['Trades seen', num(f.trade_count)], ['Gaps / re-syncs', `${f.gaps}${f.last_gap ? ': ' + f.last_gap : ''}`],
    ], f.workflow);
    drawLadder(f);
    for (const t of f.trades.slice().reverse()) trades.unshift(t);
    trades.length = Math.min(trades.length, TAPE);
    trades.forEach((t, i) => {
      const [tr, a, b, c] = tapeRows[i];
      tr.className = t.side === 'buy' ? 'bid' : 'ask';
      a.textContent = time(t.time); b.textContent = num(t.price, 2); c.textContent = num(t.qty, 4);
      tr.hidden = false;
    });
    keep(candles, f.candles);
    keep(minutes, f.candles_1m || []);
    if (f.marks.length) marks = marks.concat(f.marks).slice(-50);
    drawCandles();
    root.dataset.frames = frames;
    root.dataset.tradesPerSec = f.trades_per_sec;
    root.dataset.gaps = f.gaps;
    root.dataset.marks = marks.length;
  }

  // keep puts a frame's changed candles into m and drops the oldest past CANDLES.
  function keep(m, cs) {
    for (const c of cs) m.set(c.time, c);
    if (m.size <= CANDLES) return;
    const keys = [...m.keys()].sort((a, b) => a - b);
    for (const k of keys.slice(0, keys.length - CANDLES)) m.delete(k);
  }

  function drawLadder(f) {
    const asks = f.asks.slice(0, LEVELS), bids = f.bids.slice(0, LEVELS);
    const cum = (ls) => { let s = 0; return ls.map(([p, q]) => [p, q, (s += q)]); };
    const a = cum(asks), b = cum(bids);
    const most = Math.max(a.at(-1)?.[2] || 0, b.at(-1)?.[2] || 0) || 1;
    const fill = (rows, levels, cls) => rows.forEach(([tr, p, q, c, bar], i) => {
      const l = levels[i];
      tr.hidden = !l;
      if (!l) { tr.className = ''; return; }
      tr.className = cls;
      p.textContent = num(l[0], 2); q.textContent = num(l[1], 4); c.textContent = num(l[2], 4);
      bar.style.width = `${(l[2] / most * 100).toFixed(1)}%`;
    });
    fill(askRows, askRows.map((_, i) => a[LEVELS - 1 - i]), 'ask'); // the best ask at the bottom, beside the spread
    fill(bidRows, b, 'bid');
    mid.textContent = `spread ${num(f.spread, 2)} · mid ${num(f.mid, 2)}`;
    drawDepth(a, b);
  }

  // Canvas sizes come from a ResizeObserver: reading them while drawing
  // would force a layout after every frame's table updates.
  const sizes = new Map();
  const resized = new ResizeObserver((es) => { for (const e of es) sizes.set(e.target, e.contentRect); });
  resized.observe(chart);
  resized.observe(depth);
  signal.addEventListener('abort', () => resized.disconnect(), { once: true });
  function canvas(c) {
    const r = sizes.get(c) || { width: 300, height: 150 }, dpr = devicePixelRatio || 1;
    if (c.width !== Math.round(r.width * dpr) || c.height !== Math.round(r.height * dpr)) { c.width = Math.round(r.width * dpr); c.height = Math.round(r.height * dpr); }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, r.width, r.height);
    return [g, r.width, r.height];
  }

  function drawDepth(a, b) {
    const [g, w, ht] = canvas(depth);
    if (!a.length || !b.length) return;
    const lo = b.at(-1)[0], hi = a.at(-1)[0], most = Math.max(a.at(-1)[2], b.at(-1)[2]);
    const x = (p) => (p - lo) / (hi - lo || 1) * w, y = (c) => ht - c / most * (ht - 4);
    for (const [side, color] of [[b, '#06602f'], [a, '#9b1c15']]) {
      g.beginPath(); g.moveTo(x(side[0][0]), ht);
      for (const [p, , c] of side) { g.lineTo(x(p), y(c)); }
      g.lineTo(x(side.at(-1)[0]), ht); g.closePath();
      g.fillStyle = color + '55'; g.strokeStyle = color; g.fill(); g.stroke();
    }
  }

  function drawCandles() {
    const [g, w, ht] = canvas(chart);
    const cs = [...(span === '1m' ? minutes : candles).values()].sort((p, q) => p.time - q.time);
    root.dataset.span = span;
    root.dataset.candles = cs.length;
    if (!cs.length) return;
    let lo = Infinity, hi = -Infinity, vmax = 0;
    for (const c of cs) { lo = Math.min(lo, c.low); hi = Math.max(hi, c.high); vmax = Math.max(vmax, c.volume); }
    vmax ||= 1;
    const slots = Math.max(60, Math.min(CANDLES, cs.length)); // fill the width sooner
    const priceH = ht * 0.75, step = w / slots, bw = Math.max(1, step * 0.7);
    const y = (p) => 4 + (hi - p) / (hi - lo || 1) * (priceH - 8);
    g.font = '11px system-ui'; g.fillStyle = '#51606f';
    g.fillText(num(hi, 2), 2, 12); g.fillText(num(lo, 2), 2, priceH - 2);
    // Gaps (red) and re-syncs (amber) as dashed lines at their second.
    g.save();
    g.setLineDash([4, 3]);
    for (const m of marks) {
      if (m.time < cs[0].time) continue;
      let i = cs.findIndex((c) => c.time > m.time); // the mark sits before candle i
      if (i < 0) i = cs.length;
      const x = w - (cs.length - i) * step;
      g.strokeStyle = m.kind === 'gap' ? '#9b1c15' : '#8a5a00';
      g.beginPath(); g.moveTo(x, 0); g.lineTo(x, ht); g.stroke();
      g.fillStyle = g.strokeStyle; g.fillText(m.kind, x + 2, ht - 2);
    }
    g.restore();
    cs.forEach((c, i) => {
      const x = w - (cs.length - i) * step + step / 2;
      const up = c.close >= c.open;
      g.strokeStyle = g.fillStyle = up ? '#06602f' : '#9b1c15';
      g.beginPath(); g.moveTo(x, y(c.high)); g.lineTo(x, y(c.low)); g.stroke();
      const top = y(Math.max(c.open, c.close)), bot = y(Math.min(c.open, c.close));
      g.fillRect(x - bw / 2, top, bw, Math.max(1, bot - top));
      const vh = c.volume / vmax * (ht - priceH - 4);
      g.globalAlpha = 0.5; g.fillRect(x - bw / 2, ht - vh, bw, vh); g.globalAlpha = 1;
    });
  }

  async function startStream() {
    try {
      const wf = await api('/api/v1/workflows', { method: 'POST', body: { symbols: [symbol], types: ['ws_trades', 'ws_orderbook'], steps: ['load'] } });
      toast(`live stream ${wf.id} started`);
      status.textContent = 'starting';
    } catch (e) { toast(`start: ${e.message}`); }
  }
  async function stopStream() {
    if (!workflow) return;
    try { await api(`/api/v1/workflows/${encodeURIComponent(workflow)}/stop`, { method: 'POST' }); toast(`stopping ${workflow}`); } catch (e) { toast(`stop: ${e.message}`); }
  }

  follow(`/api/v1/market/${encodeURIComponent(symbol)}/stream`, (ev, d) => { if (ev === 'market') onFrame(d); }, signal,
    { retry: 1500, onError: (e) => { status.textContent = e.message; } });
}
