// The console's entry: login (auth.js), then a page per hash route:
// #/workflows, #/workflows/<id>, #/market[/<SYMBOL>], #/data.
import { init, user, settings, logout } from './auth.js';
import { h } from './ui.js';
import { workflowsPage } from './workflows.js';
import { workflowPage } from './workflow.js';
import { marketPage } from './market.js';
import { dataPage } from './data.js';

const view = document.getElementById('view');
let current = null; // the AbortController of the page shown

function route() {
  current?.abort();
  current = new AbortController();
  const [, page = 'workflows', arg = ''] = location.hash.split('?')[0].split('/');
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === page);
  view.replaceChildren();
  const signal = current.signal;
  if (page === 'workflows' && arg) workflowPage(view, decodeURIComponent(arg), signal);
  else if (page === 'market') marketPage(view, decodeURIComponent(arg), signal);
  else if (page === 'data') dataPage(view, signal);
  else workflowsPage(view, signal);
  view.focus({ preventScroll: true });
}

try {
  await init();
  const who = document.getElementById('who');
  who.append(user());
  if (settings().auth === 'oidc') who.append(' ', h('button', { class: 'secondary', onclick: logout }, 'Log out'));
  addEventListener('hashchange', route);
  route();
} catch (e) {
  view.replaceChildren(h('h1', {}, 'The console could not start'), h('p', { class: 'plain' }, e.message));
}
