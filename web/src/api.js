// A tiny client for Yiqi's JSON API (proto/openapi.yaml).
//
// - Same-origin requests with the session cookie (credentials: 'same-origin').
// - Remembers the CSRF token from POST /api/v1/session and GET /api/v1/me in
//   sessionStorage and sends it as X-CSRF-Token on POST/PATCH/PUT/DELETE. If the
//   server still answers 403 csrf (e.g. another tab signed in again), it reloads
//   the token from /me once and retries.
// - Every non-2xx answer becomes a thrown ApiError {status, code, field, message, body}
//   built from {"error": {"code", "message", "field"}}; network failures are
//   ApiError status 0, code 'network'.
// - A 401 from any call except the sign-in itself emits 'session-expired' on
//   apiEvents; the shell shows the sign-in page and returns to the page afterwards.
//   Pass {quiet401: true} where a 401 is an expected answer (the shell's first /me).
// - Remembers in localStorage that this browser signed in ('yiqi.signedIn'): set by a
//   successful sign-in or /me, cleared by signing out and by any 401. The shell asks /me at
//   start only while it is set (mayBeSignedIn), so an anonymous visitor's first load makes
//   no request that answers 401 (Chromium logs every such answer as a console error). Where
//   storage is blocked it always asks, so a reload still finds the session.

const CSRF_KEY = 'yiqi.csrf';
const SIGNED_IN_KEY = 'yiqi.signedIn';
const PREFIX = '/api/v1/';
const UNSAFE = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** Events: 'session-expired' (detail: {path, method}). */
export const apiEvents = new EventTarget();

export class ApiError extends Error {
  constructor(status, code, message, field, body, headers) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status; // HTTP status, 0 for network failures
    this.code = code; // e.g. 'invalid_credentials', 'slot_taken', 'network'
    this.field = field || null; // the input field at fault, when the server names one
    this.body = body; // the whole parsed body (e.g. {error, rows} of a CSV import)
    this.headers = headers || null;
  }
  /** Seconds from Retry-After (429), or null. */
  get retryAfter() {
    const v = this.headers && this.headers.get('retry-after');
    return v ? Number(v) : null;
  }
}

// The token also lives here, for a browser whose storage is blocked (access throws): a reload
// then gets it again from /me.
let csrfInMemory = '';
export function getCsrf() {
  try { return sessionStorage.getItem(CSRF_KEY) || ''; } catch { return csrfInMemory; }
}
export function setCsrf(token) {
  csrfInMemory = token || '';
  try {
    if (token) sessionStorage.setItem(CSRF_KEY, token); else sessionStorage.removeItem(CSRF_KEY);
  } catch { /* storage disabled */ }
}

/**
 * Whether a session cookie may exist: this browser signed in (or read /me) and has not signed
 * out or met a 401 since. A tab that still holds a CSRF token counts too (it signed in before
 * the flag existed). Only a hint: GET /api/v1/me decides.
 */
export function mayBeSignedIn() {
  try {
    if (localStorage.getItem(SIGNED_IN_KEY) === '1') return true;
  } catch {
    return true; // storage blocked: nothing can remember a sign-in, so the server is asked
  }
  return !!getCsrf();
}
function setSignedIn(on) {
  try {
    if (on) localStorage.setItem(SIGNED_IN_KEY, '1'); else localStorage.removeItem(SIGNED_IN_KEY);
  } catch { /* storage disabled */ }
}
/** Forgets the session on this side: the CSRF token and the signed-in flag. */
function forgetSession() {
  setCsrf('');
  setSignedIn(false);
}

/**
 * The URL of an API path: apiUrl('instruments', {q: '显微镜', zone: ''}) -> '/api/v1/instruments?q=...'.
 * path: 'instruments/12' (relative to /api/v1/) or an absolute '/api/v1/...'; query values that are
 * undefined, null or '' are left out, arrays repeat the parameter. Use it for download links too.
 */
export function apiUrl(path, query) {
  let url = path.startsWith('/') ? path : PREFIX + path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue;
      if (Array.isArray(v)) v.forEach((x) => qs.append(k, String(x)));
      else qs.append(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  return url;
}

function isSignIn(method, url) {
  return method === 'POST' && url.split('?')[0] === '/api/v1/session';
}

async function parseBody(res) {
  if (res.status === 204 || res.status === 304) return null;
  const type = res.headers.get('content-type') || '';
  const text = await res.text();
  if (type.includes('json')) {
    try { return text ? JSON.parse(text) : null; } catch { return text; }
  }
  return text;
}

/**
 * request(method, path, {query, body, headers, contentType, quiet401, signal}) -> parsed body.
 * body: a plain object/array is sent as JSON; a string, Blob, File, FormData or ArrayBuffer is sent
 * as is (give contentType, e.g. 'text/csv; charset=utf-8'). JSON answers are parsed; 204 gives null;
 * other answers give their text.
 */
export async function request(method, path, opts = {}) {
  method = method.toUpperCase();
  const url = apiUrl(path, opts.query);
  const send = async () => {
    const headers = { Accept: 'application/json', ...(opts.headers || {}) };
    let body;
    if (opts.body !== undefined) {
      const b = opts.body;
      const raw = typeof b === 'string' || b instanceof Blob || b instanceof FormData || b instanceof ArrayBuffer || ArrayBuffer.isView(b);
      if (raw) {
        body = b;
        if (opts.contentType) headers['Content-Type'] = opts.contentType;
      } else {
        body = JSON.stringify(b);
        headers['Content-Type'] = 'application/json';
      }
    }
    if (UNSAFE.has(method) && getCsrf()) headers['X-CSRF-Token'] = getCsrf();
    let res;
    try {
      res = await fetch(url, { method, headers, body, credentials: 'same-origin', signal: opts.signal });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', e && e.message ? e.message : 'network error');
    }
    return { res, data: await parseBody(res) };
  };

  let { res, data } = await send();
  if (res.status === 403 && data && data.error && data.error.code === 'csrf' && !isSignIn(method, url)) {
    if (await refreshCsrf()) ({ res, data } = await send());
  }
  if (res.ok) {
    // Sign-in and /me answers carry the session's CSRF token: there is a session.
    if (data && typeof data === 'object' && typeof data.csrf_token === 'string') {
      setCsrf(data.csrf_token);
      setSignedIn(true);
    }
    return data;
  }
  const e = (data && typeof data === 'object' && data.error) || {};
  const err = new ApiError(res.status, e.code || `http_${res.status}`, e.message || res.statusText, e.field, data, res.headers);
  if (res.status === 401 && !isSignIn(method, url)) {
    forgetSession();
    if (!opts.quiet401) apiEvents.dispatchEvent(new CustomEvent('session-expired', { detail: { method, path: url } }));
  }
  throw err;
}

async function refreshCsrf() {
  try {
    const res = await fetch(PREFIX + 'me', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (res.status === 401) forgetSession();
    if (!res.ok) return false;
    const me = await res.json();
    if (!me.csrf_token) return false;
    setCsrf(me.csrf_token);
    return true;
  } catch {
    return false;
  }
}

/** Shorthands: api.get(path, {query}), api.post(path, body, opts), api.patch, api.put, api.del(path, opts). */
export const api = {
  request,
  get: (path, opts) => request('GET', path, opts),
  post: (path, body, opts = {}) => request('POST', path, { ...opts, body }),
  patch: (path, body, opts = {}) => request('PATCH', path, { ...opts, body }),
  put: (path, body, opts = {}) => request('PUT', path, { ...opts, body }),
  del: (path, opts) => request('DELETE', path, opts),
  url: apiUrl,
};

/** Loads every page of a cursor-paginated list: {items, next_cursor} -> items (stops after maxPages). */
export async function getAll(path, query = {}, { maxPages = 50 } = {}) {
  const items = [];
  let cursor;
  for (let i = 0; i < maxPages; i++) {
    const page = await request('GET', path, { query: { ...query, cursor } });
    items.push(...(page.items || []));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** Signs in: POST /api/v1/session -> {user, csrf_token}; remembers the token. Throws ApiError (401/429...). */
export async function signIn(login, password) {
  const r = await request('POST', 'session', { body: { login, password } });
  setCsrf(r.csrf_token);
  return r.user;
}

/**
 * Signs out: DELETE /api/v1/session (204); forgets the token and the flag even if the session had
 * already ended. A session that had already ended (401, or 403 csrf for want of a session's token)
 * is the outcome asked for, not an error; only other failures (the network) are thrown.
 */
export async function signOut() {
  try {
    await request('DELETE', 'session', { quiet401: true });
  } catch (err) {
    const gone = err instanceof ApiError && (err.status === 401 || (err.status === 403 && err.code === 'csrf'));
    if (!gone) throw err;
  } finally {
    forgetSession();
  }
}

/**
 * The user of a session this browser may still have (see mayBeSignedIn): GET /api/v1/me when the
 * flag says so, else null without a request. For the start of the app.
 */
export async function restoreSession() {
  return mayBeSignedIn() ? fetchMe() : null;
}

/** The current user (GET /api/v1/me) or null when not signed in. */
export async function fetchMe() {
  try {
    const me = await request('GET', 'me', { quiet401: true });
    if (me && me.csrf_token) {
      setCsrf(me.csrf_token);
      delete me.csrf_token;
    }
    return me;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}
