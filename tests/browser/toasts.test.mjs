// Toasts and the language toggle: a toast shown in Chinese is redrawn in English when the
// user switches language (and back), with its close button's label, and its timer still
// removes it. The page clock is paused (this file's own browser), so the four seconds a
// success toast lives cannot run out while the test looks at it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../http/lib/bookings-world.mjs';
import { startApp, signIn, signOut, waitForPage } from './lib/browser.mjs';

const CJK = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/;
let app, researcher;

before(async () => {
  app = await startApp();
  sql(app.db, `INSERT INTO orgs (code, name_zh, name_en, kind, zone_id, credit_code) VALUES
    ('SJTU', '上海交通大学', 'Shanghai Jiao Tong University', 'university',
     (SELECT id FROM zones WHERE code='neobay'), '91310000000000001A');`);
  researcher = app.addUser({ login: 'chen.jing', name: '陈静', roles: ['researcher'], org: 'SJTU', password: 'Toast-Tests-Pass-2026' });
});
after(async () => { await app?.close(); });

test('a toast shown in Chinese follows a switch to English and back; its timer still removes it', () => app.run('toast-language', async (page) => {
  await page.clock.install();
  await page.goto(`${app.url}/#/signin`);
  await signIn(page, researcher.login, researcher.password);
  await waitForPage(page, '/');
  await page.clock.pauseAt(await page.evaluate(() => Date.now() + 1000));

  await signOut(page); // toast: 您已退出登录。
  const toasts = page.locator('#toasts');
  const toast = toasts.locator('.toast');
  await toast.getByText('您已退出登录。').waitFor();
  assert.equal(await toast.count(), 1);
  assert.equal(await toast.getByRole('button').getAttribute('aria-label'), '关闭');

  await page.locator('header').getByRole('button', { name: 'English' }).click();
  await page.locator('main h1', { hasText: 'Research instrument sharing' }).waitFor();
  assert.equal(await toast.count(), 1, 'the toast is still open');
  assert.equal((await toast.locator('span').innerText()).trim(), 'You have signed out.');
  assert.equal(await toast.getByRole('button').getAttribute('aria-label'), 'Close');
  assert.doesNotMatch(await toasts.innerText(), CJK, 'no Chinese text left in the toasts');

  await page.locator('header').getByRole('button', { name: '中文' }).click();
  await page.locator('main h1', { hasText: '科研仪器共享' }).waitFor();
  assert.equal((await toast.locator('span').innerText()).trim(), '您已退出登录。');
  assert.doesNotMatch(await toasts.innerText(), /signed out/);

  await page.clock.runFor(4000);
  assert.equal(await toast.count(), 0, 'the toast goes after its four seconds as before');
  app.assertClean(page);
}));
