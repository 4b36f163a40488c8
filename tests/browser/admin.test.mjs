// The admin area in headless Chromium against the real server: an admin signs in
// and, entirely through the web UI, sets up two institutions in different zones,
// a lab group and an operator and a researcher for each; a wrong credit code is
// marked on its field; the researcher then signs in; the audit log shows it all.
// Also: disabling a user, lifting a no-show bar, and a user's own password and tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startApp, signIn, signOut, waitForPage, openPage } from './lib/browser.mjs';
import { creditCodeFor } from '../http/lib/world.mjs';

let app;
const ADMIN_PW = 'Admin-Browser-Pass-2026';
const USER_PW = 'New-User-Pass-2026';

before(async () => {
  app = await startApp();
  app.addUser({ login: 'root', name: '管理员', roles: ['admin'], password: ADMIN_PW });
});
after(async () => { await app?.close(); });

const label = (zh) => new RegExp(`^${zh}( \\*)?$`);
const sqlite = (text) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', app.db, text], { encoding: 'utf8' }).trim();

async function createOrg(page, { code, zh, en, zone, kind, credit }) {
  await openPage(page, app.url, '/admin/orgs');
  const form = page.locator('form').filter({ has: page.getByRole('button', { name: '创建单位' }) });
  await form.getByLabel(label('单位代码')).fill(code);
  await form.getByLabel(label('单位中文名称')).fill(zh);
  await form.getByLabel(label('单位英文名称')).fill(en);
  await form.getByLabel(label('所属片区')).selectOption(zone);
  await form.getByLabel(label('单位类型')).selectOption(kind);
  await form.getByLabel(label('统一社会信用代码')).fill(credit);
  await form.getByRole('button', { name: '创建单位' }).click();
}

async function createGroup(page, { org, name }) {
  await openPage(page, app.url, '/admin/groups');
  const form = page.locator('form').filter({ has: page.getByRole('button', { name: '创建课题组' }) });
  await form.getByLabel(label('所属单位')).selectOption({ label: org });
  await form.getByLabel(label('课题组名称')).fill(name);
  await form.getByRole('button', { name: '创建课题组' }).click();
  await page.locator('table').getByRole('link', { name }).waitFor();
}

async function createUser(page, { login, name, org, group, role }) {
  await openPage(page, app.url, '/admin/users');
  await page.getByRole('link', { name: '新增用户' }).click();
  await waitForPage(page, '/admin/users/new');
  await page.getByLabel(label('用户名')).fill(login);
  await page.getByLabel(label('姓名')).fill(name);
  await page.getByLabel(label('电子邮箱')).fill(`${login}@example.edu.cn`);
  await page.getByLabel(label('所属单位')).selectOption({ label: org });
  if (group) {
    const select = page.getByLabel(label('所属课题组'));
    await select.locator('option', { hasText: group }).waitFor({ state: 'attached' });
    await select.selectOption({ label: group });
  }
  const researcherBox = page.getByLabel('科研人员', { exact: true });
  if (role !== 'researcher') await researcherBox.uncheck();
  await page.getByLabel({ researcher: '科研人员', operator: '仪器管理员' }[role], { exact: true }).check();
  await page.getByLabel(label('初始密码')).fill(USER_PW);
  await page.getByRole('button', { name: '创建用户' }).click();
  await waitForPage(page, '/admin/users/:id');
  assert.equal(await page.getByLabel(label('姓名')).inputValue(), name);
}

test('an admin sets up two institutions in two zones with an operator and a researcher each, all in the UI', () => app.run('admin-setup', async (page) => {
  await page.goto(`${app.url}/`);
  await signIn(page, 'root', ADMIN_PW);
  await page.locator('nav').getByRole('link', { name: '单位', exact: true }).click();
  await waitForPage(page, '/admin/orgs');

  // A wrong check character is refused and marked on the credit-code field.
  const good = creditCodeFor(101);
  const bad = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
  await createOrg(page, { code: 'NBU', zh: '湾区大学', en: 'Bay University', zone: 'neobay', kind: 'university', credit: bad });
  const creditField = page.getByLabel(label('统一社会信用代码'));
  await page.locator('form [role="alert"]').waitFor();
  assert.equal(await creditField.getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('form [role="alert"]').innerText(), /统一社会信用代码无效/);
  await creditField.fill(good);
  await page.getByRole('button', { name: '创建单位' }).click();
  await page.locator('table').getByRole('link', { name: 'NBU' }).waitFor();

  await createOrg(page, { code: 'ZJI', zh: '张江研究院', en: 'Zhangjiang Institute', zone: 'zhangjiang', kind: 'institute', credit: creditCodeFor(102) });
  await page.locator('table').getByRole('link', { name: 'ZJI' }).waitFor();
  const rows = page.locator('table tbody tr');
  assert.equal(await rows.count(), 2);
  // The zone column names the zone, not its code.
  assert.match(await rows.filter({ hasText: 'NBU' }).innerText(), /大零号湾/);
  assert.match(await rows.filter({ hasText: 'ZJI' }).innerText(), /张江/);
  assert.doesNotMatch(await rows.filter({ hasText: 'ZJI' }).innerText(), /zhangjiang/);

  await createGroup(page, { org: '湾区大学 (NBU)', name: '海洋工程课题组' });
  await createGroup(page, { org: '张江研究院 (ZJI)', name: '合成生物课题组' });

  await createUser(page, { login: 'op.nbu', name: '陈工程师', org: '湾区大学 (NBU)', role: 'operator' });
  await createUser(page, { login: 'li.nbu', name: '李研究员', org: '湾区大学 (NBU)', group: '海洋工程课题组', role: 'researcher' });
  await createUser(page, { login: 'op.zji', name: '赵工程师', org: '张江研究院 (ZJI)', role: 'operator' });
  await createUser(page, { login: 'zhou.zji', name: '周博士', org: '张江研究院 (ZJI)', group: '合成生物课题组', role: 'researcher' });

  await openPage(page, app.url, '/admin/users');
  const users = page.locator('table tbody tr');
  assert.equal(await users.count(), 5);
  assert.match(await users.filter({ hasText: 'op.zji' }).innerText(), /张江研究院[\s\S]*仪器管理员/);

  await openPage(page, app.url, '/admin/audit');
  const audit = await page.locator('table').innerText();
  for (const action of ['新增单位', '新增课题组', '新增用户']) assert.ok(audit.includes(action), action);
  await signOut(page);

  // The researcher signs in with the password the admin set.
  await signIn(page, 'zhou.zji', USER_PW);
  assert.equal(await page.locator('header .user-name').innerText(), '周博士');
  assert.equal(await page.locator('nav').getByRole('link', { name: '用户', exact: true }).count(), 0, 'no admin pages for a researcher');
  await openPage(page, app.url, '/account');
  assert.match(await page.locator('main').innerText(), /科研人员/);
  app.assertClean(page);
}));

test('an admin disables a user in the UI and that user can no longer sign in', () => app.run('admin-disable', async (page) => {
  await page.goto(`${app.url}/`);
  await signIn(page, 'root', ADMIN_PW);
  // At 1366x768 the filters (search, institution, role) and the button sit in one compact row.
  await page.setViewportSize({ width: 1366, height: 768 });
  await openPage(page, app.url, '/admin/users?q=li.nbu');
  const boxes = await Promise.all([page.getByLabel('搜索用户名或姓名'), page.getByLabel('单位', { exact: true }), page.getByLabel('角色', { exact: true }),
    page.getByRole('button', { name: '筛选' })].map((l) => l.boundingBox()));
  for (const b of boxes) assert.ok(Math.abs(b.y + b.height - (boxes[0].y + boxes[0].height)) < 8, `one row: ${JSON.stringify(boxes)}`);
  assert.ok(boxes[0].y + boxes[0].height < 250, 'the filters fit at the top of the page');
  assert.ok((await page.locator('table').boundingBox()).y < 300, 'the list starts on the first screen');
  await page.locator('table').getByRole('link', { name: 'li.nbu' }).click();
  await waitForPage(page, '/admin/users/:id');
  await page.getByRole('button', { name: '停用账号' }).click();
  await page.locator('dialog').getByRole('button', { name: '确定' }).click();
  await page.getByRole('button', { name: '启用账号' }).waitFor();
  await signOut(page);
  await signIn(page, 'li.nbu', USER_PW, { expectSuccess: false });
  assert.match(await page.locator('main [role="alert"]').innerText(), /用户名或密码错误/);
  app.assertClean(page);
}));

test('an admin sees a user\'s no-show bar with its end in local time and lifts it in the UI', () => app.run('admin-unbar', async (page) => {
  // The bar as the no-show sweep leaves it (tests/http/bookings.test.mjs makes
  // one from real no-shows); here only the page is under test.
  const until = Math.floor(Date.now() / 1000 / 60) * 60 + 10 * 86400 + 17;
  sqlite(`UPDATE users SET barred_until = ${until} WHERE login = 'zhou.zji'`);
  const local = new Date((until + 8 * 3600) * 1000).toISOString().slice(0, 16).replace('T', ' ');
  // The barred user sees why and until when on their own account page.
  await page.goto(`${app.url}/`);
  await signIn(page, 'zhou.zji', USER_PW);
  await openPage(page, app.url, '/account');
  const own = page.locator('section.card', { hasText: '预约受限' });
  assert.ok((await own.innerText()).includes(`${local} 前不能预约仪器`), await own.innerText());
  await signOut(page);
  await signIn(page, 'root', ADMIN_PW);
  await openPage(page, app.url, '/admin/users?q=zhou.zji');
  assert.match(await page.locator('table tbody tr', { hasText: 'zhou.zji' }).innerText(), /预约受限/);
  await page.locator('table').getByRole('link', { name: 'zhou.zji' }).click();
  await waitForPage(page, '/admin/users/:id');
  const bar = page.locator('section.card', { hasText: '爽约预约限制' });
  assert.ok((await bar.innerText()).includes(`暂停预约至 ${local}`), await bar.innerText());
  await bar.getByRole('button', { name: '解除限制' }).click();
  await page.locator('dialog').getByRole('button', { name: '确定' }).click();
  await page.locator('.toast', { hasText: '预约限制已解除' }).waitFor();
  await page.locator('section.card', { hasText: '爽约预约限制' }).waitFor({ state: 'detached' });
  assert.equal(sqlite("SELECT barred_until FROM users WHERE login = 'zhou.zji'"), '0');
  await openPage(page, app.url, '/admin/audit');
  assert.match(await page.locator('table').innerText(), /解除预约限制/);
  app.assertClean(page);
}));

test('a user changes their password and creates and revokes an API token in the UI', () => app.run('account-security', async (page) => {
  await page.goto(`${app.url}/`);
  await signIn(page, 'op.zji', USER_PW);
  await openPage(page, app.url, '/account/security');
  await page.getByLabel(label('当前密码')).fill(USER_PW);
  await page.getByLabel(label('新密码')).fill('Operator-Changed-2026');
  await page.getByRole('button', { name: '修改密码' }).click();
  await page.locator('.toast', { hasText: '密码已修改' }).waitFor();
  await page.getByLabel(label('令牌名称')).fill('天平数据采集');
  await page.getByLabel('录入上机记录（usage:write）').check();
  await page.getByLabel('全部（与本账号相同）').uncheck();
  await page.getByRole('button', { name: '创建令牌' }).click();
  const secret = page.locator('.token-secret');
  await secret.waitFor();
  assert.match(await secret.innerText(), /^[A-Za-z0-9_-]{43}$/);
  const row = page.locator('table tbody tr', { hasText: '天平数据采集' });
  assert.match(await row.innerText(), /usage:write[\s\S]*有效/);
  await row.getByRole('button', { name: '吊销' }).click();
  await page.locator('dialog').getByRole('button', { name: '确定' }).click();
  await page.locator('table tbody tr', { hasText: '已吊销' }).waitFor();
  assert.equal(await page.locator('.token-secret').count(), 0, 'the secret is shown only once');
  await signOut(page);
  await signIn(page, 'op.zji', 'Operator-Changed-2026');
  app.assertClean(page);
}));
