// Hash routing: "#/instruments/12?tab=rates" -> path "/instruments/12", query {tab: 'rates'}.
// No server fallback is needed because the server only ever sees "/".
//
// Pages register themselves (see pages/index.js and web/README.md):
//   registerPage({
//     path: '/instruments/:id',     // ":name" segments become params (strings, decoded)
//     titleKey: 'instrument.title', // i18n key of the page title (document title, nav label)
//     roles: null,                  // null public, 'any' any signed-in user, or ['operator', 'admin']
//     nav: { group: 'catalogue', order: 20, labelKey: 'instrument.nav' } | null, // entry in the navigation
//     render(container, params, ctx) { ... },  // may be async; may return a cleanup function
//   });
// ctx = {user, query, path, navigate, setQuery}. The shell calls render again after a language
// change and whenever the hash changes, so keep page state in the URL (setQuery) rather than in globals.

const pages = [];
const groups = new Map();

function compile(pattern) {
  const names = [];
  const src = pattern
    .split('/')
    .map((seg) => {
      if (seg.startsWith(':')) { names.push(seg.slice(1)); return '([^/]+)'; }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { re: new RegExp(`^${src}/?$`), names };
}

/** Registers a page (see the comment at the top). Returns the page object. */
export function registerPage(page) {
  if (!page || typeof page.path !== 'string' || !page.path.startsWith('/')) throw new Error('registerPage: path must start with /');
  if (typeof page.render !== 'function') throw new Error(`registerPage ${page.path}: render is required`);
  if (pages.some((p) => p.path === page.path)) throw new Error(`registerPage: ${page.path} registered twice`);
  const p = { roles: null, nav: null, ...page, ...compile(page.path) };
  pages.push(p);
  return p;
}

/**
 * Declares a navigation group: registerNavGroup({id: 'lab', labelKey: 'nav.group.lab', order: 35}).
 * The shell predeclares: catalogue 10, bookings 20, operations 30, money 40, stats 50, admin 90.
 */
export function registerNavGroup(group) {
  groups.set(group.id, { order: 100, ...group });
}

/** All registered pages, in registration order. */
export function allPages() { return pages.slice(); }

/** Navigation groups sorted by order. */
export function navGroups() { return [...groups.values()].sort((a, b) => a.order - b.order); }

/** Finds the page for a path: {page, params} or null. */
export function matchRoute(path) {
  for (const page of pages) {
    const m = page.re.exec(path);
    if (!m) continue;
    const params = {};
    page.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
    return { page, params };
  }
  return null;
}

/** The current location: {path, query} from the hash ("#/" when empty). */
export function currentLocation() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const i = raw.indexOf('?');
  const path = (i < 0 ? raw : raw.slice(0, i)) || '/';
  const query = Object.fromEntries(new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)));
  return { path, query, full: raw };
}

/** "#/path?query" for links: href('/instruments/12') or href('/catalogue', {q: '显微镜'}). */
export function href(path, query) {
  let s = `#${path}`;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    const q = qs.toString();
    if (q) s += `?${q}`;
  }
  return s;
}

/** Goes to a path (adds a history entry, or replaces the current one with {replace: true}); the shell renders it. */
export function navigate(path, query, { replace = false } = {}) {
  const target = href(path, query);
  if (replace) {
    history.replaceState(history.state, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else if (location.hash === target) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = target;
  }
}

/**
 * Updates the query of the current page in the URL WITHOUT re-rendering (history.replaceState),
 * e.g. to keep a search box's text in the URL. Values '', null or undefined remove a key.
 */
export function setQuery(patch) {
  const { path, query } = currentLocation();
  const next = { ...query, ...patch };
  history.replaceState(history.state, '', href(path, next));
}
