// Booking in headless Chromium against the real server: select free time in an
// instrument's week calendar to book it, hit a conflict (the slot taken meanwhile)
// with its clear message, cancel from "my bookings", and approve as the operator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startApp, signIn, openPage, waitForPage } from './lib/browser.mjs';
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

test('book by selecting free time, hit a conflict, cancel', () => app.run('book-conflict-cancel', async (page) => {
  const { m, date } = nextWednesday();
  const I = world.ids.open;
  await page.goto(app.url + '/');
  await signIn(page, 'res', PW);
  await openPage(page, app.url, `/instruments/${I}/calendar`, '/instruments/:id/calendar');
  await showWeekOf(page, date);
  await page.setViewportSize({ width: 1280, height: 2400 });
  await page.locator('td.fc-timegrid-slot-lane[data-time="10:00:00"]').scrollIntoViewIfNeeded();

  await dragSelect(page, date, '10:00:00', '10:30:00');
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

  // Cancel from "my bookings".
  await openPage(page, app.url, '/bookings');
  const row = page.locator('tr.booking-confirmed', { hasText: '测试仪器-open' }).first();
  await row.locator('button.btn-cancel').click();
  await page.locator('dialog button[value="ok"]').click();
  await page.locator('tr.booking-cancelled, main:not(:has(tr.booking-confirmed))').first().waitFor();
  await waitForPage(page, '/bookings');
  assert.equal(sql(world.db, `SELECT status FROM bookings WHERE instrument_id = ${I} AND start = ${m + 10 * H}`), 'cancelled');
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
