// Login: with AUTH_MODE=oidc the authorization-code flow with PKCE (S256)
// against the issuer, as the public client config.json names; the access
// token is kept in sessionStorage (this tab) and sent on every API call.
// With AUTH_MODE=none nothing is asked.

const KEY = 'sf.token', PKCE = 'sf.pkce';
let cfg = { auth: 'none' };
let disc = null;

export function settings() { return cfg; }

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));
const redirectURI = () => location.origin + location.pathname;

// init reads config.json, finishes a login coming back from the issuer, and
// starts one when there is no valid token.
export async function init() {
  cfg = await (await fetch('config.json')).json();
  if (cfg.auth !== 'oidc') return;
  if (!globalThis.crypto?.subtle) throw new Error('login needs a secure context (https, or http on localhost / 127.0.0.1)');
  const r = await fetch(cfg.issuer.replace(/\/$/, '') + '/.well-known/openid-configuration');
  if (!r.ok) throw new Error(`the identity provider ${cfg.issuer} answered ${r.status} to discovery`);
  disc = await r.json();
  const q = new URLSearchParams(location.search);
  if (q.has('error')) throw new Error(`login refused: ${q.get('error')} ${q.get('error_description') || ''}`);
  if (q.has('code')) {
    const saved = JSON.parse(sessionStorage.getItem(PKCE) || '{}');
    sessionStorage.removeItem(PKCE);
    if (!saved.state || q.get('state') !== saved.state) throw new Error('login: the answer does not match the request (state); log in again');
    const body = new URLSearchParams({ grant_type: 'authorization_code', code: q.get('code'), redirect_uri: redirectURI(), client_id: cfg.client_id, code_verifier: saved.verifier });
    const t = await fetch(disc.token_endpoint, { method: 'POST', body });
    if (!t.ok) throw new Error(`login: the token endpoint answered ${t.status}`);
    const tok = await t.json();
    sessionStorage.setItem(KEY, JSON.stringify({ access: tok.access_token, exp: Date.now() + (tok.expires_in || 60) * 1000, user: claims(tok.access_token).preferred_username || '' }));
    history.replaceState(null, '', location.pathname + (saved.hash || ''));
  }
  if (!token()) await login();
}

function claims(jwt) {
  try { return JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))); } catch { return {}; }
}

// token returns the access token, '' when there is none or it expired.
export function token() {
  if (cfg.auth !== 'oidc') return '';
  const t = JSON.parse(sessionStorage.getItem(KEY) || 'null');
  return t && t.exp > Date.now() + 5000 ? t.access : '';
}

export function user() {
  if (cfg.auth !== 'oidc') return 'no login (AUTH_MODE=none)';
  return (JSON.parse(sessionStorage.getItem(KEY) || 'null') || {}).user || '';
}

// login sends the browser to the issuer; it comes back to this page.
export async function login() {
  const verifier = random(48), state = random(16);
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE, JSON.stringify({ verifier, state, hash: location.hash }));
  const p = new URLSearchParams({ response_type: 'code', client_id: cfg.client_id, redirect_uri: redirectURI(), scope: 'openid', state, code_challenge: challenge, code_challenge_method: 'S256' });
  location.assign(disc.authorization_endpoint + '?' + p);
  return new Promise(() => {}); // the page goes
}

export function logout() {
  sessionStorage.removeItem(KEY);
  if (disc?.end_session_endpoint) location.assign(disc.end_session_endpoint + '?' + new URLSearchParams({ client_id: cfg.client_id, post_logout_redirect_uri: redirectURI() }));
}
