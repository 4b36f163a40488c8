// Booking in headless Chromium against the real server: from the instrument page to its
// week calendar, select free time to book it, hit a conflict (the slot taken meanwhile)
// with its clear message, cancel from "my bookings" (取消预约 / 保留预约), approve as the
// operator; a visitor is asked to sign in and lands on the calendar; the operator reaches
// maintenance and training from the instrument page and records training by login.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startApp, signIn, signOut, openPage, waitForPage } from './lib/browser.mjs';
import { buildWorld, PW, localMidnight, iso, H, signIn as apiSignIn, sql } from '../http/lib/bookings-world.mjs';

let app, world;
before(async () => {
  world = buildWorld();
  app = await startApp({ server: { db: world.db, dir: world.dir, keep: true } });
});
after(async () => {
  await app?.close();
  rmSync(world.dir, { recursive: true, force: true });
});

// Next week's Wednesday (local date text and its midnight instant).
function nextWednesday() {
  for (let d = 7; ; d++) {
    const m = localMidnight(d);
    if (new Date((m + 8 * H) * 1000).getUTCDay() === 3) return { m, date: new Date((m + 8 * H) * 1000).toISOString().slice(0, 10) };
  }
}

async function dragSelect(page, date, from, to) {
  const col = await page.locator(`td.fc-timegrid-col[data-date="${date}"]`).boundingBox();
  const a = await page.locator(`td.fc-timegrid-slot-lane[data-time="${from}"]`).boundingBox();
  const b = await page.locator(`td.fc-timegrid-slot-lane[data-time="${to}"]`).boundingBox();
  const x = col.x + col.width / 2;
  await page.mouse.move(x, a.y + 3);
  await page.mouse.down();
  // End inside the `to` lane: the selection covers [from, to + one slot).
  await page.mouse.move(x, (a.y + b.y) / 2, { steps: 4 });
  await page.mouse.move(x, b.y + b.height / 2, { steps: 4 });
  await page.mouse.up();
}

async function showWeekOf(page, date) {
  for (let i = 0; i < 3 && !(await page.locator(`td.fc-timegrid-col[data-date="${date}"]`).count()); i++) {
    await page.locator('.fc-next-button').click();
  }
  await page.locator(`td.fc-timegrid-col[data-date="${date}"]`).waitFor();
  await page.locator('.fc-bg-event.free').first().waitFor();
}

test('book from the instrument page by selecting free time, hit a conflict, cancel', () => app.run('book-conflict-cancel', async (page) => {
  const { m, date } = nextWednesday();
  const I = world.ids.open;
  await page.goto(app.url + '/');
  await signIn(page, 'res', PW);
  // The instrument page leads to its calendar: the researcher clicks "book".
  await openPage(page, app.url, `/instruments/${I}`, '/instruments/:id');
  await page.locator('main [data-section="booking"]').getByRole('link', { name: '预约此仪器' }).click();
  await waitForPage(page, '/instruments/:id/calendar');
  assert.match(page.url(), new RegExp(`#/instruments/${I}/calendar$`));
  // The heading names the instrument.
  await page.locator('main h1', { hasText: '预约日历：测试仪器-open' }).waitFor();
  await showWeekOf(page, date);
  await page.setViewportSize({ width: 1280, height: 2400 });
  await page.locator('td.fc-timegrid-slot-lane[data-time="10:00:00"]').scrollIntoViewIfNeeded();

  await dragSelect(page, date, '10:00:00', '10:30:00');
  assert.match(await page.locator('dialog').innerText(), /预约 测试仪器-open：/, 'the confirmation names the instrument');
  await page.locator('dialog button[value="ok"]').click();
  await page.locator('.booking-status .banner-success').waitFor();
  assert.equal(sql(world.db, `SELECT count(*) FROM bookings WHERE instrument_id = ${I} AND start = ${m + 10 * H} AND end = ${m + 11 * H} AND status = 'confirmed'`), '1');
  await page.locator('.fc-bg-event.busy-booking').first().waitFor();

  // Someone else takes 14:00-15:00 after this page loaded its calendar.
  const other = await apiSignIn(app.server, 'resb');
  const r = await other.post('/api/v1/bookings', { instrument_id: I, start: iso(m + 14 * H), end: iso(m + 15 * H) });
  assert.equal(r.status, 201);
  await dragSelect(page, date, '14:00:00', '14:30:00');
  await page.locator('dialog button[value="ok"]').click();
  const banner = page.locator('.booking-status .banner-error[data-code="slot_taken"]');
  await banner.waitFor();
  assert.match(await banner.innerText(), /已被预约/);

  // Cancel from "my bookings": the dialog's buttons say "cancel the booking" and "keep it".
  await openPage(page, app.url, '/bookings');
  const row = page.locator('tr.booking-confirmed', { hasText: '测试仪器-open' }).first();
  await row.locator('button.btn-cancel').click();
  const dialog = page.locator('dialog');
  assert.deepEqual((await dialog.getByRole('button').allInnerTexts()).map((x) => x.trim()), ['取消预约', '保留预约']);
  assert.match(await dialog.innerText(), /测试仪器-open/);
  await dialog.getByRole('button', { name: '保留预约' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(sql(world.db, `SELECT status FROM bookings WHERE instrument_id = ${I} AND start = ${m + 10 * H}`), 'confirmed', '保留预约 keeps it');
  await row.locator('button.btn-cancel').click();
  await dialog.getByRole('button', { name: '取消预约' }).click();
  await page.locator('.toast', { hasText: '已取消预约：测试仪器-open' }).waitFor();
  await page.locator('tr.booking-cancelled').first().waitFor();
  await waitForPage(page, '/bookings');
  assert.equal(sql(world.db, `SELECT status FROM bookings WHERE instrument_id = ${I} AND start = ${m + 10 * H}`), 'cancelled');
  // Upcoming lists live bookings only; the cancelled one is history.
  const upcoming = page.locator('section.card', { has: page.locator('h2', { hasText: '即将开始' }) });
  assert.equal(await upcoming.locator('tr.booking-cancelled').count(), 0);
  await page.locator('section.card', { has: page.locator('h2', { hasText: '历史预约' }) }).locator('tr.booking-cancelled', { hasText: '测试仪器-open' }).waitFor();
  app.assertClean(page, { allow: [/409/, /Conflict/] });
}));

test('the operator approves a pending booking from the queue', () => app.run('approve', async (page) => {
  const { m } = nextWednesday();
  const res = await apiSignIn(app.server, 'res');
  const r = await res.post('/api/v1/bookings', { instrument_id: world.ids.approval, start: iso(m + 9 * H), end: iso(m + 10 * H) });
  assert.equal(r.status, 201);
  assert.equal(r.body.status, 'pending');
  await page.goto(app.url + '/');
  await signIn(page, 'opa', PW);
  await openPage(page, app.url, '/approvals');
  const row = page.locator('tr.booking-pending', { hasText: '测试仪器-approval' });
  await row.locator('button.btn-approve').click();
  await page.locator('tr.booking-pending').waitFor({ state: 'detached' });
  const after = await res.get(`/api/v1/bookings/${r.body.id}`);
  assert.equal(after.body.status, 'confirmed');
  app.assertClean(page);
}));

test('a visitor is asked to sign in on the instrument page and then lands on its calendar', () => app.run('book-signin', async (page) => {
  const I = world.ids.open;
  await openPage(page, app.url, `/instruments/${I}`, '/instruments/:id');
  const section = page.locator('main [data-section="booking"]');
  assert.equal(await section.getByRole('link', { name: '预约此仪器' }).count(), 0, 'no booking button before sign-in');
  await section.getByRole('link', { name: '登录后预约' }).click();
  await waitForPage(page, '/signin');
  await signIn(page, 'res', PW);
  await waitForPage(page, '/instruments/:id/calendar');
  await page.locator('main h1', { hasText: '测试仪器-open' }).waitFor();
  app.assertClean(page);
}));

test('the operator opens maintenance and training from the instrument page and records training by login', () => app.run('maintenance-training', async (page) => {
  const I = world.ids.training;
  await page.goto(app.url + '/');
  await signIn(page, 'opa', PW);
  await openPage(page, app.url, `/instruments/${I}`, '/instruments/:id');
  await page.locator('main [data-section="booking"]').getByRole('link', { name: '维护与培训' }).click();
  await waitForPage(page, '/instruments/:id/maintenance');
  await page.locator('main h1', { hasText: '维护与培训：测试仪器-training' }).waitFor();

  // A block whose end is before its start is refused in the form, in Chinese, before any request.
  const blocks = Number(sql(world.db, `SELECT count(*) FROM blocks WHERE instrument_id = ${I}`));
  await page.getByLabel(/^开始/).fill('2030-01-10T10:00');
  await page.getByLabel(/^结束/).fill('2030-01-10T09:00');
  await page.getByLabel(/^原因/).fill('校准');
  await page.getByRole('button', { name: '添加维护时段' }).click();
  await page.locator('[data-field="end"] .field-error', { hasText: '结束时间须晚于开始时间' }).waitFor();
  assert.equal(Number(sql(world.db, `SELECT count(*) FROM blocks WHERE instrument_id = ${I}`)), blocks);

  // Training: an unknown login is explained; a login is enough (no numeric id).
  const who = page.getByLabel(/^用户（登录名或姓名）/);
  await who.fill('nobody-here');
  await page.getByLabel(/^有效期至/).fill('2030-06-30');
  await page.getByRole('button', { name: '登记培训' }).click();
  await page.locator('[data-field="user"] .field-error', { hasText: '找不到用户“nobody-here”' }).waitFor();
  await who.fill('r1');
  await page.getByRole('button', { name: '登记培训' }).click();
  const row = page.locator('.training-table tbody tr', { hasText: 'r1' });
  await row.waitFor();
  await waitForPage(page, '/instruments/:id/maintenance');
  // Valid until the day entered (the API's exclusive end is the next midnight).
  assert.match(await row.innerText(), /r1 \(r1\)\s+2030-06-30\s+有效/);
  assert.equal(await page.locator('.training-table th').first().innerText(), '受训人');
  assert.equal(sql(world.db, `SELECT count(*) FROM qualifications WHERE instrument_id = ${I} AND user_id = ${world.users.r1}`), '1');
  app.assertClean(page);

  // The trained researcher reads the same date on the instrument page, next to the booking button.
  await signOut(page);
  await signIn(page, 'r1', PW);
  await openPage(page, app.url, `/instruments/${I}`, '/instruments/:id');
  const section = page.locator('main [data-section="booking"]');
  await section.getByText('您的培训有效期至 2030-06-30').waitFor();
  await section.getByRole('link', { name: '预约此仪器' }).waitFor();
  assert.equal(await section.getByRole('link', { name: '维护与培训' }).count(), 0, 'no upkeep link for a researcher');
}));

test('my bookings: every upcoming booking, and the history 30 at a time with 更多', () => app.run('mine-history', async (page) => {
  // 'r4' gets 70 finished bookings (one a day back from yesterday) and 2 upcoming ones.
  const u = world.users.r4, I = world.ids.open;
  const rows = [];
  for (let d = 1; d <= 70; d++) rows.push(`(${I}, ${u}, (SELECT org_id FROM users WHERE id = ${u}), ${localMidnight(-d) + 9 * H}, ${localMidnight(-d) + 10 * H}, 'completed')`);
  for (const d of [30, 31]) rows.push(`(${I}, ${u}, (SELECT org_id FROM users WHERE id = ${u}), ${localMidnight(d) + 9 * H}, ${localMidnight(d) + 10 * H}, 'confirmed')`);
  sql(world.db, `INSERT INTO bookings (instrument_id, user_id, payer_org_id, start, end, status) VALUES ${rows.join(',')};`);
  await page.goto(`${app.url}/`);
  await signIn(page, 'r4', PW);
  await openPage(page, app.url, '/bookings');
  const upcoming = page.locator('section.card', { has: page.locator('h2', { hasText: '即将开始' }) });
  const history = page.locator('section.card', { has: page.locator('h2', { hasText: '历史预约' }) });
  await history.locator('tr.booking-completed').first().waitFor();
  assert.equal(await upcoming.locator('tr.booking-confirmed').count(), 2);
  assert.equal(await history.locator('tr.booking-completed').count(), 30);
  await history.getByRole('button', { name: '更多' }).click();
  await history.locator('tr.booking-completed').nth(59).waitFor();
  assert.equal(await history.locator('tr.booking-completed').count(), 60);
  await history.getByRole('button', { name: '更多' }).click();
  await history.locator('tr.booking-completed').nth(69).waitFor();
  assert.equal(await history.locator('tr.booking-completed').count(), 70);
  assert.equal(await history.getByRole('button', { name: '更多' }).isVisible(), false, 'no more pages');
  await signOut(page);
  app.assertClean(page);
}));
