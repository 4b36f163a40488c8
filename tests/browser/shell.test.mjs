// The app shell in headless Chromium against the real server: Chinese first, the
// language toggle (remembered), anonymous navigation, sign-in errors, sign-in with
// name and roles in the header, sign-out, session expiry, and the CSP-clean build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as i18n from '../../web/src/i18n.js';
import { startApp, signIn, signOut, waitForPage, openPage, screenshot, WEB_DIST } from './lib/browser.mjs';
import { sql } from '../http/lib/bookings-world.mjs';

let app;
const PASSWORD = 'correct-horse-battery-9';
let researcher;

before(async () => {
  app = await startApp();
  // Researchers belong to an institution; the shell tests need just one.
  sql(app.db, `INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) VALUES
    ('SJTU', '上海交通大学', 'Shanghai Jiao Tong University', 'university',
     (SELECT id FROM zones WHERE code='neobay'), '91310000000000001A');`);
  researcher = app.addUser({ login: 'wang.fang', name: '王芳', roles: ['researcher', 'pi'], org: 'SJTU', password: PASSWORD });
});
after(async () => { await app?.close(); });

test('the build has no inline script (CSP)', () => {
  const html = readFileSync(join(WEB_DIST, 'index.html'), 'utf8');
  const tags = html.match(/<script\b[^>]*>/gi) || [];
  assert.ok(tags.length >= 1);
  for (const tag of tags) assert.match(tag, /\ssrc="\/assets\/[^"]+\.js"/, `inline or foreign script: ${tag}`);
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'inline event handler');
});

test('money and Shanghai time formatting (i18n.js, run in node)', () => {
  assert.equal(i18n.formatMoney(123450), '¥1,234.50');
  assert.equal(i18n.formatMoney(5), '¥0.05');
  assert.equal(i18n.formatMoney(-100000005), '-¥1,000,000.05');
  assert.equal(i18n.formatMoney(0), '¥0.00');
  assert.equal(i18n.parseYuanToFen('1,234.5'), 123450);
  assert.equal(i18n.parseYuanToFen('¥0.07'), 7);
  assert.equal(i18n.parseYuanToFen('1.234'), null);
  assert.equal(i18n.fenToYuanString(-1205), '-12.05');
  // 2026-12-01 01:30 UTC is 09:30 in Shanghai, whatever the machine's zone.
  assert.equal(i18n.formatDateTime('2026-12-01T01:30:00Z'), '2026-12-01 09:30');
  assert.equal(i18n.formatDate('2026-11-30T16:00:00Z'), '2026-12-01');
  assert.equal(i18n.toApiTime(new Date('2026-12-01T01:30:00Z')), '2026-12-01T09:30:00+08:00');
  assert.equal(i18n.localToApiTime('2026-12-01', '09:00'), '2026-12-01T09:00:00+08:00');
  assert.equal(i18n.formatRange('2026-12-01T09:00:00+08:00', '2026-12-01T11:00:00+08:00'), '2026-12-01 09:00–11:00');
  assert.equal(i18n.shanghaiParts('2026-12-06T23:59:00+08:00').weekday, 7);
  i18n.addMessages({ zh: { 'test.hello': '您好，{name}' }, en: { 'test.hello': 'Hello, {name}' } });
  assert.equal(i18n.t('test.hello', { name: '王芳' }), '您好，王芳');
  assert.equal(i18n.t('no.such.key'), 'no.such.key');
});

test('the app loads in Chinese for a new visitor; anonymous navigation offers sign-in', () => app.run('zh-default', async (page) => {
  const t0 = performance.now();
  await page.goto(`${app.url}/`);
  await waitForPage(page, '/');
  const ms = performance.now() - t0;
  const mark = await page.evaluate(() => performance.getEntriesByName('yiqi:first-render')[0]?.startTime);
  console.log(`# home first render: ${ms.toFixed(0)} ms from goto to rendered; ${mark.toFixed(0)} ms after navigation start`);
  assert.ok(mark < 1000, `first render took ${mark} ms`);

  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.match(await page.title(), /仪器共享 Yiqi/);
  const header = page.locator('header');
  await header.getByText('仪器共享').waitFor();
  const signinLink = header.getByRole('link', { name: '登录' });
  assert.equal(await signinLink.count(), 1, 'sign-in link in the header');
  await page.locator('main h1', { hasText: '科研仪器共享' }).waitFor();
  // Anonymous navigation: public pages only, no account page, no sign-out.
  const nav = page.getByRole('navigation', { name: '主导航' });
  await nav.getByRole('link', { name: '首页' }).waitFor();
  assert.equal(await nav.getByRole('link', { name: '我的账号' }).count(), 0);
  assert.equal(await header.getByRole('button', { name: '退出登录' }).count(), 0);
  await screenshot(page, 'shell-anonymous-zh');
  await signinLink.click();
  await waitForPage(page, '/signin');
  await page.getByLabel('用户名').waitFor();
  await page.getByLabel('密码').waitFor();
  app.assertClean(page);
}));

test('the language toggle switches to English and is remembered after reload', () => app.run('lang-toggle', async (page) => {
  await page.goto(`${app.url}/`);
  await waitForPage(page, '/');
  await page.locator('header').getByRole('button', { name: 'English' }).click();
  await page.locator('main h1', { hasText: 'Research instrument sharing' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.locator('header').getByRole('link', { name: 'Sign in' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('yiqi.lang')), 'en');

  await page.reload();
  await waitForPage(page, '/');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.locator('main h1', { hasText: 'Research instrument sharing' }).waitFor();
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Home' }).waitFor();
  await screenshot(page, 'shell-anonymous-en');

  await page.locator('header').getByRole('button', { name: '中文' }).click();
  await page.locator('main h1', { hasText: '科研仪器共享' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  app.assertClean(page);
}));

test('a wrong password shows a clear error and stays on the sign-in page', () => app.run('wrong-password', async (page) => {
  await openPage(page, app.url, '/signin');
  await signIn(page, researcher.login, 'not-the-password-at-all', { expectSuccess: false });
  const alert = page.locator('main [role="alert"]');
  assert.match(await alert.innerText(), /用户名或密码错误/);
  assert.equal(await page.getByLabel('密码').inputValue(), '', 'password field cleared');
  assert.equal(await page.locator('header .user-name').count(), 0);
  // The unknown login gets the same message.
  await signIn(page, 'no.such.user', 'whatever-password-1', { expectSuccess: false });
  assert.match(await page.locator('main [role="alert"]').innerText(), /用户名或密码错误/);
  app.assertClean(page);
}));

test('too many failed sign-ins show the throttling message with the server\'s text', () => app.run('throttled', async (page) => {
  const locked = app.addUser({ login: 'li.lei', name: '李雷', org: 'SJTU', password: PASSWORD });
  await openPage(page, app.url, '/signin');
  // Five failures through the API (the UI path is the same request), then one through the UI.
  for (let i = 0; i < 5; i++) {
    const status = await page.evaluate(async (login) => (await fetch('/api/v1/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login, password: 'wrong-password-123' }),
    })).status, locked.login);
    assert.equal(status, 401);
  }
  await signIn(page, locked.login, locked.password, { expectSuccess: false });
  const text = await page.locator('main [role="alert"]').innerText();
  assert.match(text, /登录失败次数过多，请稍后再试/);
  assert.match(text, /\(.+\)/, 'the server\'s message is shown too');
  app.assertClean(page);
}));

test('a user signs in, sees name and roles in the header, and signs out', () => app.run('signin-signout', async (page) => {
  await page.goto(`${app.url}/`);
  await waitForPage(page, '/');
  await signIn(page, researcher.login, researcher.password);
  await waitForPage(page, '/');
  const header = page.locator('header');
  assert.equal(await header.locator('.user-name').innerText(), '王芳');
  await header.getByText('科研人员').waitFor();
  await header.getByText('课题组负责人').waitFor();
  await page.locator('main h1', { hasText: '您好，王芳' }).waitFor();
  await page.locator('main .role-card[data-role="researcher"]').waitFor();
  await page.locator('main .role-card[data-role="pi"]').waitFor();
  assert.equal(await page.locator('main .role-card[data-role="admin"]').count(), 0, 'no card for a role the user lacks');
  const nav = page.getByRole('navigation', { name: '主导航' });
  await nav.getByRole('link', { name: '我的账号' }).click();
  await waitForPage(page, '/account');
  await page.locator('main').getByText('wang.fang').waitFor();
  await screenshot(page, 'shell-account-zh');

  await page.goto(`${app.url}/#/`);
  await waitForPage(page, '/');
  await screenshot(page, 'shell-home-zh');
  await header.getByRole('button', { name: 'English' }).click();
  await page.locator('main h1', { hasText: 'Hello, 王芳' }).waitFor();
  await header.getByText('Principal investigator').waitFor();
  await screenshot(page, 'shell-home-en');
  await header.getByRole('button', { name: '中文' }).click();

  await signOut(page);
  await waitForPage(page, '/');
  assert.equal(await header.locator('.user-name').count(), 0);
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
  assert.equal(me, 401, 'the session is gone on the server');
  // A page that needs a sign-in now leads to the sign-in page (without the expiry message).
  await page.goto(`${app.url}/#/account`);
  await waitForPage(page, '/signin');
  assert.equal(await page.getByText('会话已过期').count(), 0);
  app.assertClean(page);
}));

test('an expired session leads to the sign-in page with a message, then back to the page', () => app.run('session-expiry', async (page) => {
  await page.goto(`${app.url}/#/signin`);
  await signIn(page, researcher.login, researcher.password);
  await openPage(page, app.url, '/');
  await app.context.clearCookies(); // the server-side session is unreachable now, as after the idle timeout
  await page.getByRole('navigation', { name: '主导航' }).getByRole('link', { name: '我的账号' }).click(); // GET /api/v1/me -> 401
  await waitForPage(page, '/signin');
  await page.getByText('会话已过期，请重新登录').waitFor();
  assert.match(page.url(), /#\/signin\?next=%2Faccount&expired=1$/);
  assert.equal(await page.locator('header .user-name').count(), 0, 'header shows no user');
  await screenshot(page, 'shell-expired-zh');
  await signIn(page, researcher.login, researcher.password);
  await waitForPage(page, '/account');
  await page.locator('main').getByText('wang.fang').waitFor();
  app.assertClean(page);
}));

test('the navigation collapses into a menu on a narrow screen', () => app.run('mobile-nav', async (page) => {
  await page.setViewportSize({ width: 390, height: 780 });
  await page.goto(`${app.url}/`);
  await waitForPage(page, '/');
  const nav = page.getByRole('navigation', { name: '主导航' });
  assert.equal(await nav.isVisible(), false);
  const toggle = page.locator('header').getByRole('button', { name: '菜单' });
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await nav.getByRole('link', { name: '首页' }).waitFor();
  await screenshot(page, 'shell-mobile-zh');
  app.assertClean(page);
}));
