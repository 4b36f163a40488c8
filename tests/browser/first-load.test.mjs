// The first load of the app without console errors. GET /api/v1/me answers 401 to an
// anonymous caller (the API contract), and Chromium logs every such answer as a console error,
// so the app asks /me at start only when this browser signed in before (localStorage flag).
// Here the console is watched strictly: unlike app.assertClean, expected API 4xx answers count.
// Anonymous first loads of the public pages and of each role's pages make no /me request and
// log nothing; a researcher, an operator and the commission stay signed in across a reload and
// in a new tab; signing out forgets the flag; an expired session costs one 401, then none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../http/lib/server.mjs';
import { sql } from '../http/lib/bookings-world.mjs';
import { startApp, signIn, signOut, waitForPage } from './lib/browser.mjs';

const PASSWORD = 'First-Load-Pass-2026';
let app, inst;
const people = {};

before(async () => {
  app = await startApp();
  sql(app.db, `INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) VALUES
    ('SJTU', '上海交通大学', 'Shanghai Jiao Tong University', 'university',
     (SELECT id FROM zones WHERE code='neobay'), '91310000000000001A');`);
  people.researcher = { ...app.addUser({ login: 'zhao.lei', name: '赵磊', roles: ['researcher'], org: 'SJTU', password: PASSWORD }), name: '赵磊', home: '/bookings' };
  people.operator = { ...app.addUser({ login: 'op.sjtu', name: '钱敏', roles: ['operator'], org: 'SJTU', password: PASSWORD }), name: '钱敏', home: '/desk' };
  people.commission = { ...app.addUser({ login: 'kw.sun', name: '孙科', roles: ['commission'], password: PASSWORD }), name: '孙科', home: '/ledger' };
  const op = new Client(app.url);
  await op.signIn(people.operator.login, PASSWORD);
  const c = await op.post('/api/v1/instruments', {
    owner_org_id: op.user.org_id, asset_no: 'FIRST-LOAD-1', name_zh: '场发射扫描电子显微镜', name_en: 'Field-emission scanning electron microscope',
    model: 'FE-SEM 9', manufacturer: 'Yiqi Optics', country: 'CN', class_code: '010401', category_type: 'general',
    share_mode: 'external', run_status: 'normal', original_value_fen: 250000000,
    rules: {}, price: { unit: 'hour', internal_fen: 20000, zone_fen: 40000 },
  });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  inst = c.body;
});
after(async () => { await app?.close(); });

/** Every console error and page error of a page (with the path open at the time), and its GET /api/v1/me requests. */
function watchStrictly(page) {
  const seen = { errors: [], me: 0 };
  const where = () => { try { return new URL(page.url()).hash || '/'; } catch { return '?'; } };
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = (msg.location() && msg.location().url) || '';
    // Chromium's own guess at /favicon.ico when a load is cut short (the app declares an SVG icon);
    // the harness ignores it for the same reason.
    if (url && new URL(url).pathname === '/favicon.ico') return;
    seen.errors.push(`${where()}: ${msg.text()}${url ? ` (${url})` : ''}`);
  });
  page.on('pageerror', (err) => seen.errors.push(`${where()}: ${err}`));
  page.on('request', (req) => { if (new URL(req.url()).pathname === '/api/v1/me') seen.me += 1; });
  return seen;
}

/** A real first load of #path (not a same-document hash change), waiting for the page pattern. */
async function firstLoad(page, path, pattern) {
  await page.goto('about:blank');
  await page.goto(`${app.url}/#${path}`);
  await waitForPage(page, pattern);
}

const hasFlag = (page) => page.evaluate(() => localStorage.getItem('yiqi.signedIn'));

test('an anonymous first load of every public page and of each role\'s pages logs no console error and asks no /me', () => app.run('first-load-anonymous', async (page) => {
  const seen = watchStrictly(page);
  const publicPages = [
    ['/', '/', '科研仪器共享'],
    ['/catalogue', '/catalogue', null],
    [`/instruments/${inst.id}`, '/instruments/:id', '场发射扫描电子显微镜'],
    [`/instruments/${inst.id}/calendar`, '/instruments/:id/calendar', '场发射扫描电子显微镜'],
    ['/signin', '/signin', '登录'],
  ];
  for (const [path, pattern, heading] of publicPages) {
    await firstLoad(page, path, pattern);
    await page.locator('header .signin-link').waitFor();
    if (heading) await page.locator('main h1', { hasText: heading }).first().waitFor();
  }
  // Researcher, operator and commission pages (and the account) lead an anonymous visitor to the sign-in page.
  for (const path of ['/bookings', '/usage', '/desk', '/usage/record', '/catalogue/manage', '/ledger', '/settlement', '/stats', '/account']) {
    await firstLoad(page, path, '/signin');
    assert.match(page.url(), new RegExp(`#/signin\\?next=${encodeURIComponent(path)}$`));
    await page.locator('header .signin-link').waitFor();
  }
  // The same in English.
  await page.evaluate(() => localStorage.setItem('yiqi.lang', 'en'));
  await firstLoad(page, '/', '/');
  await page.locator('header').getByRole('link', { name: 'Sign in' }).waitFor();
  await firstLoad(page, '/desk', '/signin');

  assert.deepEqual(seen.errors, [], `console errors on an anonymous first load:\n${seen.errors.join('\n')}`);
  assert.equal(seen.me, 0, 'an anonymous visitor\'s first load does not ask /me');
  assert.equal(await hasFlag(page), null);
  app.assertClean(page);
}));

for (const role of ['researcher', 'operator', 'commission']) {
  test(`the ${role} stays signed in across a reload and in a new tab; signing out leaves a clean anonymous load`, () => app.run(`first-load-${role}`, async (page) => {
    const who = people[role];
    const seen = watchStrictly(page);
    await firstLoad(page, who.home, '/signin');
    assert.equal(seen.me, 0);
    await signIn(page, who.login, who.password);
    await waitForPage(page, who.home);
    assert.equal(await hasFlag(page), '1', 'sign-in sets the flag');

    const before = seen.me;
    await page.reload();
    await waitForPage(page, who.home); // not sent to the sign-in page: the reload recognised the session
    assert.equal(await page.locator('header .user-name').innerText(), who.name);
    assert.ok(seen.me > before, 'the reload asked /me');

    // A new tab of the same browser shares the cookie and the flag.
    const tab = await app.newPage();
    const tabSeen = watchStrictly(tab);
    await firstLoad(tab, who.home, who.home);
    assert.equal(await tab.locator('header .user-name').innerText(), who.name);
    assert.deepEqual(tabSeen.errors, []);
    await tab.close();

    await page.goto(`${app.url}/#/`);
    await waitForPage(page, '/');
    await signOut(page);
    assert.equal(await hasFlag(page), null, 'sign-out clears the flag');
    const afterSignOut = seen.me;
    await firstLoad(page, '/', '/');
    await page.locator('header .signin-link').waitFor();
    await firstLoad(page, who.home, '/signin');
    assert.equal(seen.me, afterSignOut, 'after signing out the app no longer asks /me');
    assert.deepEqual(seen.errors, [], `console errors:\n${seen.errors.join('\n')}`);
    app.assertClean(page);
  }));
}

test('an expired session is shown as signed out after one 401 from /me, and later loads are clean', () => app.run('first-load-expired', async (page) => {
  const who = people.researcher;
  const seen = watchStrictly(page);
  await firstLoad(page, who.home, '/signin');
  await signIn(page, who.login, who.password);
  await waitForPage(page, who.home);
  await app.context.clearCookies(); // the session is gone, as after the idle timeout; the flag remains

  const meBefore = seen.me;
  await page.reload();
  await waitForPage(page, '/signin');
  assert.match(page.url(), /#\/signin\?next=%2Fbookings$/);
  await page.locator('header .signin-link').waitFor();
  assert.equal(await page.locator('header .user-name').count(), 0, 'shown as signed out');
  assert.equal(seen.me - meBefore, 1, 'one /me, no retry loop');
  assert.equal(seen.errors.length, 1, `one console error, the /me 401:\n${seen.errors.join('\n')}`);
  assert.match(seen.errors[0], /status of 401 .*\/api\/v1\/me/);
  assert.equal(await hasFlag(page), null, 'the 401 cleared the flag');

  await firstLoad(page, '/', '/');
  await firstLoad(page, who.home, '/signin');
  assert.equal(seen.me - meBefore, 1, 'no more /me after the 401');
  assert.equal(seen.errors.length, 1, `no further console errors:\n${seen.errors.join('\n')}`);
  // Signing in again works as usual.
  await signIn(page, who.login, who.password);
  await waitForPage(page, who.home);
  assert.equal(await hasFlag(page), '1');
  // Signing out of a session that has meanwhile ended signs out, without an error.
  await app.context.clearCookies();
  await page.locator('header .signout').click();
  await page.locator('header .signin-link').waitFor();
  assert.equal(await page.locator('header .user-name').count(), 0, 'the name is gone from the header');
  assert.equal(await page.locator('#toasts .toast-error, #toasts [data-kind="error"], .error-dialog').count(), 0,
    'no error shown');
  assert.equal(await hasFlag(page), null);
  app.assertClean(page);
}));

test('with the browser\'s storage blocked, a signed-in researcher stays signed in across a reload and can still act', () => app.run('first-load-no-storage', async (page) => {
  const who = people.researcher;
  // As a browser that blocks site storage but sends first-party cookies: every access throws.
  await page.addInitScript(() => {
    for (const name of ['localStorage', 'sessionStorage'])
      Object.defineProperty(window, name, { configurable: true, get() { throw new DOMException('blocked', 'SecurityError'); } });
  });
  const seen = watchStrictly(page);
  await firstLoad(page, who.home, '/signin');
  await signIn(page, who.login, who.password);
  await waitForPage(page, who.home);
  await page.reload();
  await waitForPage(page, who.home); // the reload asked /me and found the session
  assert.equal(await page.locator('header .user-name').innerText(), who.name);
  // An unsafe request needs the CSRF token, kept in memory after /me: signing out works.
  await signOut(page);
  await page.locator('header .signin-link').waitFor();
  await firstLoad(page, who.home, '/signin');
  // Each load of a signed-out browser without storage costs one /me 401, and nothing else.
  assert.ok(seen.errors.every((e) => /status of 401 .*\/api\/v1\/me/.test(e)), seen.errors.join('\n'));
}));
