// The REST API as the console uses it: JSON calls that throw a Problem
// (RFC 9457, with the field at fault) and Server-Sent Events read with
// fetch, so that the bearer token goes with them (EventSource cannot send
// headers).
import { token, login, settings } from './auth.js';

export class Problem extends Error {
  constructor(p, status) {
    super(p.detail || p.title || `HTTP ${status}`);
    this.status = status;
    this.field = p.field || '';
    this.title = p.title || '';
  }
}

function headers(extra) {
  const h = { ...extra };
  const t = token();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

async function check(res) {
  if (res.ok) return res;
  if (res.status === 401 && settings().auth === 'oidc') await login();
  let p = {};
  try { p = await res.json(); } catch { /* not a problem document */ }
  throw new Problem(p, res.status);
}

export async function api(path, { method = 'GET', body, key } = {}) {
  const h = headers(body === undefined ? {} : { 'Content-Type': 'application/json' });
  if (key) h['Idempotency-Key'] = key;
  const res = await check(await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) }));
  if (res.status === 204) return null;
  return (res.headers.get('Content-Type') || '').includes('json') ? res.json() : res.text();
}

// stream reads one event stream until it ends, calling on(event, data).
export async function stream(path, on, signal) {
  const res = await check(await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal }));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let ev = 'message', data = '';
      for (const line of chunk.split('\n')) {
        if (line.startsWith('event:')) ev = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (data) on(ev, JSON.parse(data));
    }
  }
}

const sleep = (ms, signal) => new Promise((r) => { const t = setTimeout(r, ms); signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true }); });

// follow keeps reading an event stream, asking again retry ms after it
// ends or fails, until signal aborts or done() says so.
export function follow(path, on, signal, { retry = 2000, done = () => false, onError = () => {} } = {}) {
  (async () => {
    while (!signal.aborted && !done()) {
      try { await stream(path, on, signal); } catch (e) { if (!signal.aborted) onError(e); }
      if (!done()) await sleep(retry, signal);
    }
  })();
}
