// Inline SVG figures of a workflow's page, no library: a train step's
// training curve and a window of the graph its graph step built.
const NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...kids) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
  return e;
}
// figure is an accessible picture: role img, named by its title, described
// in words by its desc.
const figure = (id, w, ht, title, desc, kids) => s('svg', { id, class: 'fig', viewBox: `0 0 ${w} ${ht}`, role: 'img', 'aria-labelledby': `${id}-t ${id}-d` },
  s('title', { id: `${id}-t` }, title), s('desc', { id: `${id}-d` }, desc), kids);
const g3 = (v) => v === null || v === undefined ? '–' : Number(v).toPrecision(3);
const ok = (v) => v !== null && v !== undefined && Number.isFinite(v);

const W = 560, H = 220, L = 52, R = 12, T = 14, B = 32;

// curveChart draws train and validation loss per epoch, the best epoch
// marked; the words say the same for a screen reader.
export function curveChart(curve, best) {
  const ys = curve.flatMap((p) => [p.train_loss, p.val_loss]).filter(ok);
  if (!curve.length || !ys.length) return null;
  const x0 = curve[0].epoch, x1 = Math.max(x0 + 1, curve.at(-1).epoch);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y1 === y0) y1 = y0 + 1;
  const X = (e) => (L + (e - x0) / (x1 - x0) * (W - L - R)).toFixed(1);
  const Y = (v) => (T + (1 - (v - y0) / (y1 - y0)) * (H - T - B)).toFixed(1);
  const line = (key, cls) => {
    let d = '', pen = 'M';
    for (const p of curve) {
      if (!ok(p[key])) { pen = 'M'; continue; }
      d += `${pen}${X(p.epoch)} ${Y(p[key])}`; pen = 'L';
    }
    return d ? s('path', { d, class: cls }) : null;
  };
  const first = (k) => curve.find((p) => ok(p[k]))?.[k], last = (k) => curve.findLast((p) => ok(p[k]))?.[k];
  const desc = `${curve.at(-1).epoch} epochs: train loss from ${g3(first('train_loss'))} to ${g3(last('train_loss'))}, ` +
    `validation loss from ${g3(first('val_loss'))} to ${g3(last('val_loss'))}, best epoch ${best}, ` +
    `validation accuracy at the end ${g3(last('val_acc'))}.`;
  return figure('curve', W, H, 'Training curve: loss per epoch', desc, [
    s('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }), s('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }),
    [y1, (y0 + y1) / 2, y0].map((v) => s('text', { x: L - 4, y: +Y(v) + 4, 'text-anchor': 'end' }, g3(v))),
    s('text', { x: L, y: H - B + 16, 'text-anchor': 'middle' }, x0), s('text', { x: W - R, y: H - B + 16, 'text-anchor': 'end' }, x1),
    s('text', { x: (L + W) / 2, y: H - 4, 'text-anchor': 'middle' }, 'epoch'),
    best >= x0 && best <= x1 ? s('line', { x1: X(best), y1: T, x2: X(best), y2: H - B, class: 'best' }) : null,
    line('train_loss', 'train'), line('val_loss', 'val'),
    s('text', { x: W - R, y: T + 4, 'text-anchor': 'end', class: 'train' }, '— train loss'),
    s('text', { x: W - R, y: T + 18, 'text-anchor': 'end', class: 'val' }, '- - validation loss'),
    s('text', { x: W - R, y: T + 32, 'text-anchor': 'end', class: 'best' }, `| best epoch ${best}`)]);
}

// graphChart draws a window of a graph: a visibility (or horizontal) graph
// as its points on a time axis, each visible pair joined by an arc; any
// other (a correlation MST) as its first snapshot's vertices on a circle,
// moved by a few deterministic steps of a force layout, joined by lines.
export function graphChart(win) {
  let vs = win.vertices || [];
  if (!vs.length) return null;
  const series = win.kind === 'visibility' || win.kind === 'horizontal';
  if (!series && vs.some((v) => v.snapshot !== undefined)) {
    const first = Math.min(...vs.map((v) => v.snapshot ?? Infinity));
    vs = vs.filter((v) => (v.snapshot ?? first) === first);
  }
  const at = new Map();
  const links = (win.links || []).filter((e) => e.from !== e.to);
  const GH = series ? 220 : 360; // a series leaves 40 px above its points for the arcs
  const kids = [];
  if (series) {
    const t0 = vs[0].time, t1 = Math.max(t0 + 1, vs.at(-1).time);
    const cs = vs.map((v) => v.close), c0 = Math.min(...cs), c1 = Math.max(c0 + 1e-9, ...cs);
    vs.forEach((v) => at.set(v.key, [L + (v.time - t0) / (t1 - t0) * (W - L - R), GH - B - 8 - (v.close - c0) / (c1 - c0) * (GH - T - B - 56)]));
    const base = GH - B;
    kids.push(s('line', { x1: L, y1: base, x2: W - R, y2: base, class: 'axis' }),
      s('text', { x: L, y: base + 16 }, new Date(t0).toISOString().slice(0, 16).replace('T', ' ')),
      s('text', { x: W - R, y: base + 16, 'text-anchor': 'end' }, new Date(t1).toISOString().slice(11, 16) + ' UTC'));
    for (const e of links) {
      const a = at.get(e.from), b = at.get(e.to);
      if (!a || !b) continue;
      const r = Math.abs(b[0] - a[0]) / 2;
      kids.push(s('path', { d: `M${a[0].toFixed(1)} ${a[1].toFixed(1)}A${r.toFixed(1)} ${Math.min(r, 40).toFixed(1)} 0 0 ${a[0] < b[0] ? 1 : 0} ${b[0].toFixed(1)} ${b[1].toFixed(1)}`, class: 'edge' }));
    }
  } else {
    const n = vs.length, cx = W / 2, cy = GH / 2, rad = GH / 2 - 30;
    const p = vs.map((v, i) => [cx + rad * Math.cos(2 * Math.PI * i / n), cy + rad * Math.sin(2 * Math.PI * i / n)]);
    const idx = new Map(vs.map((v, i) => [v.key, i]));
    const es = links.map((e) => [idx.get(e.from), idx.get(e.to)]).filter(([a, b]) => a !== undefined && b !== undefined);
    const k = rad * 1.6 / Math.sqrt(n);
    for (let it = 0; it < 60; it++) {
      const f = p.map(() => [0, 0]), step = k * (1 - it / 60) * 0.5;
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
        const dx = p[i][0] - p[j][0], dy = p[i][1] - p[j][1], d2 = Math.max(dx * dx + dy * dy, 1), m = k * k / d2;
        f[i][0] += dx * m; f[i][1] += dy * m; f[j][0] -= dx * m; f[j][1] -= dy * m;
      }
      for (const [a, b] of es) {
        const dx = p[a][0] - p[b][0], dy = p[a][1] - p[b][1], m = Math.hypot(dx, dy) / k;
        f[a][0] -= dx * m; f[a][1] -= dy * m; f[b][0] += dx * m; f[b][1] += dy * m;
      }
      p.forEach((q, i) => {
        const m = Math.hypot(f[i][0], f[i][1]) || 1, d = Math.min(m, step) / m;
        q[0] = Math.min(W - 30, Math.max(30, q[0] + f[i][0] * d)); q[1] = Math.min(GH - 20, Math.max(20, q[1] + f[i][1] * d));
      });
    }
    vs.forEach((v, i) => at.set(v.key, p[i]));
    for (const [a, b] of es) kids.push(s('line', { x1: p[a][0].toFixed(1), y1: p[a][1].toFixed(1), x2: p[b][0].toFixed(1), y2: p[b][1].toFixed(1), class: 'edge' }));
  }
  for (const v of vs) {
    const [x, y] = at.get(v.key);
    kids.push(s('circle', { cx: x.toFixed(1), cy: y.toFixed(1), r: series ? 2.5 : 5, class: `node l${v.label}` }, s('title', {}, `${v.symbol} ${new Date(v.time).toISOString().slice(0, 16).replace('T', ' ')} close ${v.close}`)));
    if (!series && vs.length <= 40) kids.push(s('text', { x: (x + 7).toFixed(1), y: (y + 4).toFixed(1) }, v.symbol));
  }
  const shown = at.size, edges = kids.filter((e) => e.classList.contains('edge')).length;
  const what = series ? `${win.kind} graph: the first ${shown} points on a time axis (height: close), each pair that sees the other joined by an arc`
    : `${win.kind || 'correlation'}${win.method ? ' ' + win.method : ''} graph: ${shown} vertices and ${edges} edges`;
  return figure('graph', W, GH, `Graph ${win.graph}`, `${what}; ${edges} edges shown of ${win.edges}, ${shown} vertices of ${win.nodes}.`, kids);
}
