// The app shell: header (product name, signed-in user and roles, sign-out,
// language toggle), role-filtered navigation, and the <main> area where the
// router renders the current page. It also turns an expired session (any API
// 401) into the sign-in page with a message, remembering where the user was.
//
// Render contract (see router.js): page.render(container, params, ctx) with
// ctx = {user, query, path, params, navigate, setQuery, rerender}; it may be async and may
// return a cleanup function, which runs before the next page renders.
// When a page has rendered, <main> gets data-page="<pattern>" and aria-busy="false",
// which browser tests wait for.

import { apiEvents, fetchMe, restoreSession, signOut } from './api.js';
import { addMessages, applyDocumentLang, getLang, onLangChange, setLang, t } from './i18n.js';
import { allPages, currentLocation, href, matchRoute, navGroups, navigate, registerNavGroup, setQuery } from './router.js';
import { allowed, getUser, onUserChange, setUser } from './session.js';
import { badge, el, emptyState, link, mount, showError, toast } from './ui.js';

export const PRODUCT_NAME = '仪器共享 Yiqi';

addMessages({
  zh: {
    'shell.skip': '跳到主要内容',
    'shell.menu': '菜单',
    'shell.nav': '主导航',
    'shell.signin': '登录',
    'shell.signout': '退出登录',
    'shell.signedOut': '您已退出登录。',
    'shell.switchLang': 'English',
    'shell.switchLangTitle': 'Switch to English',
    'shell.userLabel': '当前用户',
    'shell.footer': '大零号湾 · 张江科学城 科研仪器共享服务',
    'shell.notFound.title': '页面不存在',
    'shell.notFound.hint': '链接可能有误，或该功能尚未上线。',
    'shell.forbidden.title': '无权访问',
    'shell.forbidden.hint': '您的角色不能查看此页面。如需权限，请联系管理员。',
    'shell.backHome': '返回首页',
    'shell.expired': '会话已过期，请重新登录',
    'role.researcher': '科研人员',
    'role.pi': '课题组负责人',
    'role.operator': '仪器管理员',
    'role.commission': '科委',
    'role.admin': '系统管理员',
    'nav.group.catalogue': '仪器目录',
    'nav.group.bookings': '预约',
    'nav.group.operations': '仪器运行',
    'nav.group.money': '费用与结算',
    'nav.group.stats': '统计分析',
    'nav.group.admin': '系统管理',
  },
  en: {
    'shell.skip': 'Skip to main content',
    'shell.menu': 'Menu',
    'shell.nav': 'Main navigation',
    'shell.signin': 'Sign in',
    'shell.signout': 'Sign out',
    'shell.signedOut': 'You have signed out.',
    'shell.switchLang': '中文',
    'shell.switchLangTitle': '切换到中文',
    'shell.userLabel': 'Signed in as',
    'shell.footer': 'Research instrument sharing · Grand Neo Bay and Zhangjiang Science City',
    'shell.notFound.title': 'Page not found',
    'shell.notFound.hint': 'The link may be wrong, or this feature is not available yet.',
    'shell.forbidden.title': 'Not allowed',
    'shell.forbidden.hint': 'Your roles cannot open this page. Ask an administrator if you need access.',
    'shell.backHome': 'Back to the home page',
    'shell.expired': 'Your session has expired. Please sign in again.',
    'role.researcher': 'Researcher',
    'role.pi': 'Principal investigator',
    'role.operator': 'Operator',
    'role.commission': 'Commission',
    'role.admin': 'Administrator',
    'nav.group.catalogue': 'Catalogue',
    'nav.group.bookings': 'Bookings',
    'nav.group.operations': 'Operations',
    'nav.group.money': 'Fees and settlement',
    'nav.group.stats': 'Statistics',
    'nav.group.admin': 'Administration',
  },
});

// Predeclared navigation groups; pages choose one with nav: {group}. 'home' has no heading.
registerNavGroup({ id: 'home', labelKey: null, order: 0 });
registerNavGroup({ id: 'catalogue', labelKey: 'nav.group.catalogue', order: 10 });
registerNavGroup({ id: 'bookings', labelKey: 'nav.group.bookings', order: 20 });
registerNavGroup({ id: 'operations', labelKey: 'nav.group.operations', order: 30 });
registerNavGroup({ id: 'money', labelKey: 'nav.group.money', order: 40 });
registerNavGroup({ id: 'stats', labelKey: 'nav.group.stats', order: 50 });
registerNavGroup({ id: 'admin', labelKey: 'nav.group.admin', order: 90 });

/** The localized name of a role. */
export function roleName(role) { return t(`role.${role}`); }

/** Pages the user may open that have a navigation entry, grouped: [{group, pages: [...]}]. */
export function navFor(user) {
  const visible = allPages().filter((p) => p.nav && allowed(p.roles, user));
  return navGroups()
    .map((g) => ({ group: g, pages: visible.filter((p) => (p.nav.group || 'home') === g.id).sort((a, b) => (a.nav.order || 0) - (b.nav.order || 0)) }))
    .filter((x) => x.pages.length);
}

const headerItems = [];
/**
 * Adds something to the header, left of the user's name (e.g. a notifications bell with an
 * unread count): registerHeaderItem({order: 10, roles: 'any', render: (user) => node}).
 * render runs again whenever the user or the language changes; roles as for pages.
 */
export function registerHeaderItem(item) {
  headerItems.push({ order: 100, roles: 'any', ...item });
  headerItems.sort((a, b) => a.order - b.order);
  if (frame) renderHeader();
}

/** Reads GET /api/v1/me again and updates the header and navigation (e.g. after a profile change). */
export async function refreshUser() {
  const me = await fetchMe();
  setUser(me);
  return me;
}

let frame = null; // {header, nav, main}
let cleanup = null;
let routeSeq = 0;
let firstRender = true;

function buildFrame(root) {
  const main = el('main', { id: 'main', tabindex: '-1', 'aria-busy': 'true' });
  const header = el('header', { class: 'topbar' });
  const nav = el('nav', { id: 'sidenav', class: 'sidenav' });
  const skip = el('a', { class: 'skip-link', href: '#/', onclick: (ev) => { ev.preventDefault(); main.focus(); } });
  const footer = el('footer', { class: 'footer' });
  mount(root, skip, header, el('div', { class: 'layout' }, nav, main), footer);
  root.removeAttribute('aria-busy');
  frame = { root, header, nav, main, skip, footer };
}

function renderHeader() {
  const user = getUser();
  const { header, nav } = frame;
  const toggle = el('button', {
    type: 'button', class: 'nav-toggle', 'aria-controls': 'sidenav', 'aria-expanded': String(nav.classList.contains('open')),
    onclick: () => {
      const open = nav.classList.toggle('open');
      toggle.setAttribute('aria-expanded', String(open));
    },
  }, el('span', { class: 'nav-toggle-icon', 'aria-hidden': 'true' }, '☰'), ' ', t('shell.menu'));
  const langBtn = el('button', {
    type: 'button', class: 'btn btn-ghost lang-toggle', lang: getLang() === 'zh' ? 'en' : 'zh-CN',
    title: t('shell.switchLangTitle'), onclick: () => setLang(getLang() === 'zh' ? 'en' : 'zh'),
  }, t('shell.switchLang'));
  let account;
  if (user) {
    account = el('div', { class: 'account', role: 'group', 'aria-label': t('shell.userLabel') },
      el('span', { class: 'user-name' }, user.name || user.login),
      el('span', { class: 'user-roles' }, (user.roles || []).map((r) => badge(roleName(r), 'role'))),
      el('button', {
        type: 'button', class: 'btn btn-ghost signout',
        onclick: async () => {
          try { await signOut(); } catch (err) { showError(null, err); return; }
          setUser(null);
          toast(() => t('shell.signedOut'), 'success');
          navigate('/');
        },
      }, t('shell.signout')));
  } else {
    account = el('div', { class: 'account' }, link(href('/signin'), t('shell.signin'), { class: 'btn btn-primary signin-link' }));
  }
  mount(header, toggle,
    el('a', { class: 'brand', href: '#/' }, el('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '仪'), el('span', { class: 'brand-zh' }, '仪器共享'), ' ', el('span', { class: 'brand-en' }, 'Yiqi')),
    el('div', { class: 'topbar-right' },
      headerItems.filter((it) => allowed(it.roles, user)).map((it) => {
        try { return it.render(user); } catch (err) { console.error(err); return null; }
      }),
      account, langBtn));
}

function renderNav() {
  const { nav } = frame;
  nav.setAttribute('aria-label', t('shell.nav'));
  const { path } = currentLocation();
  const here = matchRoute(path);
  mount(nav, navFor(getUser()).map(({ group, pages }) => el('div', { class: 'nav-group' },
    group.labelKey ? el('h2', { class: 'nav-heading' }, t(group.labelKey)) : null,
    el('ul', null, pages.map((p) => el('li', null, el('a', {
      href: `#${p.nav.path || p.path}`,
      'aria-current': here && here.page === p ? 'page' : null,
      onclick: () => { nav.classList.remove('open'); },
    }, t(p.nav.labelKey || p.titleKey))))))));
}

function renderFrameText() {
  frame.skip.textContent = t('shell.skip');
  frame.footer.textContent = t('shell.footer');
  renderHeader();
  renderNav();
}

function simpleView(titleKey, hintKey) {
  return {
    titleKey,
    render(c) {
      mount(c, emptyState(t(titleKey), t(hintKey), link('#/', t('shell.backHome'), { class: 'btn btn-secondary' })));
    },
  };
}
const NOT_FOUND = simpleView('shell.notFound.title', 'shell.notFound.hint');
const FORBIDDEN = simpleView('shell.forbidden.title', 'shell.forbidden.hint');

/** Renders the page of the current hash. Called on hashchange, language change and sign-in/out. */
export async function route() {
  const seq = ++routeSeq;
  const loc = currentLocation();
  const user = getUser();
  const m = matchRoute(loc.path);
  let page = m ? m.page : NOT_FOUND;
  const params = m ? m.params : {};
  if (m && !allowed(page.roles, user)) {
    if (!user) {
      navigate('/signin', { next: loc.full }, { replace: true });
      return;
    }
    page = FORBIDDEN;
  }
  if (cleanup) {
    try { cleanup(); } catch (err) { console.error(err); }
    cleanup = null;
  }
  renderNav();
  const { main } = frame;
  const container = el('div', { class: 'page' });
  mount(main, container);
  main.setAttribute('aria-busy', 'true');
  main.dataset.page = m ? page.path : '';
  document.title = page.titleKey ? `${t(page.titleKey)} · ${PRODUCT_NAME}` : PRODUCT_NAME;
  const ctx = {
    user, query: loc.query, path: loc.path, params,
    navigate, setQuery, rerender: () => route(),
  };
  try {
    const result = await page.render(container, params, ctx);
    if (typeof result === 'function') {
      if (seq === routeSeq) cleanup = result; else result();
    }
  } catch (err) {
    if (seq === routeSeq) showError(container, err);
  }
  if (seq !== routeSeq) return;
  main.setAttribute('aria-busy', 'false');
  if (firstRender) {
    firstRender = false;
    performance.mark('yiqi:first-render');
  } else if (!main.contains(document.activeElement)) {
    main.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}

function onSessionExpired() {
  const wasSignedIn = !!getUser();
  const loc = currentLocation();
  if (getUser()) setUser(null);
  if (loc.path === '/signin') return;
  navigate('/signin', { next: loc.full, expired: wasSignedIn ? '1' : undefined }, { replace: false });
}

/** Starts the app in root: loads the user, draws the frame, routes. */
export async function startShell(root) {
  applyDocumentLang();
  buildFrame(root);
  let user = null;
  try {
    // Only a browser that signed in asks /me: an anonymous visitor's 401 would be a console error.
    user = await restoreSession();
  } catch (err) {
    console.error(err);
  }
  setUser(user);
  renderFrameText();
  onUserChange(() => { renderHeader(); renderNav(); });
  onLangChange(() => { renderFrameText(); route(); });
  apiEvents.addEventListener('session-expired', onSessionExpired);
  window.addEventListener('hashchange', () => route());
  await route();
}
