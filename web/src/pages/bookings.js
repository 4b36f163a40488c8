// Bookings (issue 5): an instrument's week as a calendar (FullCalendar) with free and
// busy time, where selecting a free range books it; "my bookings" with cancel and the
// private iCalendar link; the approval queue (PI, then operator); the operator's desk
// for check-in and check-out; maintenance blocks and training records.
//
// The catalogue's instrument page embeds the calendar with mountBookingCalendar(node, id);
// #/instruments/:id/calendar shows it on its own.
//
// FullCalendar runs in its 'UTC' zone fed with Shanghai wall-clock times (the API's
// instants shifted by +8 h), so the grid shows Shanghai time in any browser.
// FullCalendar is loaded on first use, so pages without a calendar stay small.
let fullCalendar = null;
function loadFullCalendar() {
  fullCalendar ??= Promise.all([
    import('@fullcalendar/core'), import('@fullcalendar/timegrid'), import('@fullcalendar/interaction'),
  ]).then(([core, timeGrid, interaction]) => ({
    Calendar: core.Calendar, plugins: [timeGrid.default, interaction.default],
  }));
  return fullCalendar;
}
import { api } from '../api.js';
import { addMessages, t, getLang, formatMoney, formatRange, formatDateTime, toApiTime } from '../i18n.js';
import { registerPage, href } from '../router.js';
import { getUser, hasRole } from '../session.js';
import {
  el, mount, pageHeader, card, table, loading, toast, button, badge, confirmDialog, form, formRow,
  errorMessage, link, emptyState,
} from '../ui.js';

addMessages({
  zh: {
    'bk.calendar.title': '预约日历',
    'bk.mine.title': '我的预约',
    'bk.mine.upcoming': '即将开始',
    'bk.mine.past': '历史预约',
    'bk.approvals.title': '预约审批',
    'bk.desk.title': '上机签到',
    'bk.maint.title': '维护与培训',
    'bk.legend.free': '空闲',
    'bk.legend.booking': '已预约',
    'bk.legend.block': '维护',
    'bk.legend.closed': '不开放',
    'bk.hint': '在空闲时段拖动选择开始和结束时间即可预约（上海时间）。',
    'bk.confirm.title': '确认预约',
    'bk.confirm.message': '预约 {range}？',
    'bk.purpose': '用途（可选）',
    'bk.book': '预约',
    'bk.booked': '预约成功：{range}，状态：{status}，预计费用 {fee}',
    'bk.instrument': '仪器',
    'bk.time': '时间',
    'bk.user': '预约人',
    'bk.status': '状态',
    'bk.fee': '预计费用',
    'bk.actions': '操作',
    'bk.cancel': '取消预约',
    'bk.cancel.confirm': '确定取消这个预约？',
    'bk.cancelled': '已取消',
    'bk.approve': '批准',
    'bk.reject': '拒绝',
    'bk.checkin': '签到',
    'bk.checkout': '签退',
    'bk.done': '已完成操作',
    'bk.awaiting.pi': '待课题组负责人审批',
    'bk.awaiting.operator': '待仪器管理员审批',
    'bk.ical': '日历订阅',
    'bk.ical.hint': '把这个私密地址添加到手机或电脑的日历应用中，即可同步您的预约。不要分享给他人。',
    'bk.ical.create': '生成订阅地址',
    'bk.ical.rotate': '重新生成（旧地址失效）',
    'bk.ical.revoke': '停用订阅',
    'bk.ical.active': '已有订阅地址（出于安全只在生成时显示）。',
    'bk.none': '暂无预约',
    'bk.queue.none': '没有待您审批的预约',
    'bk.blocks': '维护时段',
    'bk.block.add': '添加维护时段',
    'bk.block.start': '开始',
    'bk.block.end': '结束',
    'bk.block.reason': '原因',
    'bk.block.added': '已添加维护时段，取消了 {n} 个预约',
    'bk.training': '培训记录',
    'bk.training.user': '用户 ID',
    'bk.training.expires': '有效期至',
    'bk.training.add': '登记培训',
    'bk.training.valid': '有效',
    'bk.training.expired': '已过期',
    'bk.delete': '删除',
    'bk.prev': '上一周',
    'bk.next': '下一周',
    'bk.open': '打开日历',
    'bk.instrument.id': '仪器 ID',
    'status.pending': '待审批', 'status.confirmed': '已确认', 'status.in_use': '使用中', 'status.completed': '已完成',
    'status.rejected': '已拒绝', 'status.cancelled': '已取消', 'status.no_show': '爽约',
    'error.slot_taken': '该时段已被预约或处于维护中，请选择其他时间。',
    'error.in_past': '不能预约过去的时间。',
    'error.not_bookable': '该仪器目前不可预约（未共享、故障维修或已退役）。',
    'error.barred': '您近 90 天内爽约 3 次，暂时不能预约。',
    'error.not_qualified': '该仪器需要培训，您还没有有效的培训记录。',
    'error.off_step': '开始和结束时间必须落在仪器的时间刻度上。',
    'error.too_short': '预约时长短于仪器允许的最短时长。',
    'error.too_long': '预约时长超过仪器允许的最长时长。',
    'error.outside_open_hours': '所选时间不在仪器的开放时间内。',
    'error.too_soon': '需要提前预约：所选时间距现在太近。',
    'error.too_far_ahead': '所选时间超出了可预约的范围。',
    'error.past_deadline': '已过取消截止时间，请联系仪器管理员。',
    'error.reason_required': '请填写原因。',
    'error.too_early': '签到在开始前 15 分钟开放。',
    'error.too_late': '已超过签到时间。',
    'error.invalid_state': '预约状态已变化，请刷新。',
    'error.in_use': '该时间内有正在使用的预约，请先签退。',
    'error.idempotency_key_reused': '重复的请求。',
    'error.range_too_long': '一次最多查询 62 天。',
  },
  en: {
    'bk.calendar.title': 'Booking calendar',
    'bk.mine.title': 'My bookings',
    'bk.mine.upcoming': 'Upcoming',
    'bk.mine.past': 'Past bookings',
    'bk.approvals.title': 'Approvals',
    'bk.desk.title': 'Check-in desk',
    'bk.maint.title': 'Maintenance and training',
    'bk.legend.free': 'Free',
    'bk.legend.booking': 'Booked',
    'bk.legend.block': 'Maintenance',
    'bk.legend.closed': 'Closed',
    'bk.hint': 'Drag over free time to choose a start and an end, and book it (Shanghai time).',
    'bk.confirm.title': 'Confirm the booking',
    'bk.confirm.message': 'Book {range}?',
    'bk.purpose': 'Purpose (optional)',
    'bk.book': 'Book',
    'bk.booked': 'Booked {range}: {status}, estimated fee {fee}',
    'bk.instrument': 'Instrument',
    'bk.time': 'Time',
    'bk.user': 'Booked by',
    'bk.status': 'Status',
    'bk.fee': 'Estimated fee',
    'bk.actions': 'Actions',
    'bk.cancel': 'Cancel booking',
    'bk.cancel.confirm': 'Cancel this booking?',
    'bk.cancelled': 'Cancelled',
    'bk.approve': 'Approve',
    'bk.reject': 'Reject',
    'bk.checkin': 'Check in',
    'bk.checkout': 'Check out',
    'bk.done': 'Done',
    'bk.awaiting.pi': 'awaiting the PI',
    'bk.awaiting.operator': 'awaiting the operator',
    'bk.ical': 'Calendar feed',
    'bk.ical.hint': 'Add this private address to your calendar application to see your bookings there. Do not share it.',
    'bk.ical.create': 'Create the feed address',
    'bk.ical.rotate': 'Create a new address (the old one stops working)',
    'bk.ical.revoke': 'Turn the feed off',
    'bk.ical.active': 'You have a feed address (shown only when created, for safety).',
    'bk.none': 'No bookings yet',
    'bk.queue.none': 'Nothing awaits your approval',
    'bk.blocks': 'Maintenance blocks',
    'bk.block.add': 'Add a maintenance block',
    'bk.block.start': 'Start',
    'bk.block.end': 'End',
    'bk.block.reason': 'Reason',
    'bk.block.added': 'Block added; {n} booking(s) cancelled',
    'bk.training': 'Training records',
    'bk.training.user': 'User id',
    'bk.training.expires': 'Valid until',
    'bk.training.add': 'Record training',
    'bk.training.valid': 'valid',
    'bk.training.expired': 'expired',
    'bk.delete': 'Delete',
    'bk.prev': 'Previous week',
    'bk.next': 'Next week',
    'bk.open': 'Open the calendar',
    'bk.instrument.id': 'Instrument id',
    'status.pending': 'Pending', 'status.confirmed': 'Confirmed', 'status.in_use': 'In use', 'status.completed': 'Completed',
    'status.rejected': 'Rejected', 'status.cancelled': 'Cancelled', 'status.no_show': 'No-show',
    'error.slot_taken': 'That time is already booked or blocked; choose another.',
    'error.in_past': 'That time is in the past.',
    'error.not_bookable': 'This instrument cannot be booked now (not shared, under repair or retired).',
    'error.barred': 'You missed 3 bookings in 90 days and cannot book for now.',
    'error.not_qualified': 'This instrument requires training, and you have no valid training record.',
    'error.off_step': 'Start and end must fall on the instrument\'s time steps.',
    'error.too_short': 'That is shorter than the instrument allows.',
    'error.too_long': 'That is longer than the instrument allows.',
    'error.outside_open_hours': 'That time is outside the open hours.',
    'error.too_soon': 'Book further ahead: that time is too soon.',
    'error.too_far_ahead': 'That time is too far ahead.',
    'error.past_deadline': 'The cancellation deadline has passed; ask the operator.',
    'error.reason_required': 'Give a reason.',
    'error.too_early': 'Check-in opens 15 minutes before the start.',
    'error.too_late': 'The check-in window has passed.',
    'error.invalid_state': 'The booking changed meanwhile; reload.',
    'error.in_use': 'A booking in that time is in use; check it out first.',
    'error.idempotency_key_reused': 'Repeated request.',
    'error.range_too_long': 'Ask for at most 62 days at a time.',
  },
});

const SHIFT = 8 * 3600 * 1000;
// API instant -> Shanghai wall clock as a naive ISO string for FullCalendar's 'UTC' zone.
const wall = (s) => new Date(Date.parse(s) + SHIFT).toISOString().slice(0, 19);
// FullCalendar date (wall clock in 'UTC') -> API instant text.
const fromWall = (d) => `${d.toISOString().slice(0, 19)}+08:00`;

function statusBadge(b) {
  const kind = { confirmed: 'success', pending: 'warning', in_use: 'info', no_show: 'danger', rejected: 'danger' }[b.status] || 'neutral';
  const label = t(`status.${b.status}`) + (b.awaiting ? ` · ${t(`bk.awaiting.${b.awaiting}`)}` : '');
  return badge(label, kind);
}

async function act(b, action, opts = {}) {
  let body = {};
  if (opts.confirm) {
    const ok = await confirmDialog({ title: opts.confirm, reason: !!opts.reason, danger: action !== 'approve' });
    if (!ok) return null;
    if (ok.reason) body = { reason: ok.reason };
  }
  try {
    const out = await api.post(`bookings/${b.id}/${action}`, body);
    toast(t('bk.done'), 'success');
    return out;
  } catch (err) {
    toast(errorMessage(err), 'error');
    return null;
  }
}

/**
 * The week calendar of one instrument into `node`: busy time (bookings, maintenance, closed
 * hours) and free time from GET availability; selecting a free range books it. Returns a
 * cleanup function.
 */
export function mountBookingCalendar(node, instrumentId) {
  const status = el('div', { class: 'booking-status', role: 'status', 'aria-live': 'polite' });
  const calNode = el('div', { class: 'booking-calendar', 'data-instrument': String(instrumentId) });
  const legend = el('p', { class: 'booking-legend' },
    ['free', 'booking', 'block', 'closed'].map((k) => el('span', { class: `legend legend-${k}` }, t(`bk.legend.${k}`))));
  mount(node, el('p', { class: 'hint' }, t('bk.hint')), legend, status, calNode);
  const signedIn = !!getUser();
  let calendar = null, gone = false;
  loadFullCalendar().then(({ Calendar, plugins }) => {
    if (gone) return;
    calendar = makeCalendar(Calendar, plugins);
    calendar.render();
  });
  return () => { gone = true; calendar?.destroy(); };

  function makeCalendar(Calendar, plugins) {
  return new Calendar(calNode, {
    plugins,
    initialView: 'timeGridWeek',
    timeZone: 'UTC',
    locale: getLang() === 'zh' ? 'zh-cn' : 'en',
    firstDay: 1,
    allDaySlot: false,
    nowIndicator: false,
    height: 'auto',
    slotMinTime: '00:00:00',
    scrollTime: '08:00:00',
    selectable: signedIn,
    selectMirror: true,
    buttonText: { today: getLang() === 'zh' ? '本周' : 'This week' },
    events: async (info) => {
      const from = fromWall(info.start), to = fromWall(info.end);
      const av = await api.get(`instruments/${instrumentId}/availability`, { query: { from, to } });
      const busy = av.busy.map((x) => ({
        start: wall(x.start), end: wall(x.end), display: 'background', classNames: [`busy-${x.kind}`],
        title: t(`bk.legend.${x.kind}`), extendedProps: { kind: x.kind },
      }));
      const free = av.free.map((x) => ({ start: wall(x.start), end: wall(x.end), display: 'background', classNames: ['free'], extendedProps: { kind: 'free' } }));
      return [...busy, ...free];
    },
    selectOverlap: (ev) => ev.extendedProps.kind === 'free',
    select: async (info) => {
      const start = fromWall(info.start), end = fromWall(info.end);
      calendar.unselect();
      const range = formatRange(start, end);
      const dlgPurpose = await confirmDialog({ title: t('bk.confirm.title'), message: t('bk.confirm.message', { range }), confirmLabel: t('bk.book') });
      if (!dlgPurpose) return;
      try {
        const b = await api.post('bookings', { instrument_id: Number(instrumentId), start, end },
          { headers: { 'Idempotency-Key': `${instrumentId}-${start}-${end}-${Date.now()}` } });
        const msg = t('bk.booked', { range, status: t(`status.${b.status}`), fee: formatMoney(b.fee_estimate_fen) });
        mount(status, el('p', { class: 'banner banner-success' }, msg));
        toast(msg, 'success');
      } catch (err) {
        mount(status, el('p', { class: 'banner banner-error', 'data-code': err.code || '' }, errorMessage(err)));
      }
      calendar.refetchEvents();
    },
  });
  }
}

registerPage({
  path: '/instruments/:id/calendar',
  titleKey: 'bk.calendar.title',
  roles: null,
  nav: null,
  render(container, params) {
    const body = el('div');
    mount(container, pageHeader(t('bk.calendar.title'), link(href(`/instruments/${params.id}`), `#${params.id}`)), body);
    return mountBookingCalendar(body, params.id);
  },
});

function bookingTable(rows, actions) {
  return table({
    columns: [
      { key: 'instrument', label: t('bk.instrument'), render: (b) => link(href(`/instruments/${b.instrument_id}/calendar`), getLang() === 'zh' ? b.instrument_name_zh : b.instrument_name_en) },
      { key: 'time', label: t('bk.time'), render: (b) => formatRange(b.start, b.end) },
      { key: 'user', label: t('bk.user'), render: (b) => b.user_name },
      { key: 'status', label: t('bk.status'), render: statusBadge },
      { key: 'fee', label: t('bk.fee'), align: 'right', render: (b) => formatMoney(b.fee_estimate_fen) },
      { key: 'actions', label: t('bk.actions'), render: (b) => el('span', { class: 'row-actions' }, actions(b)) },
    ],
    rows,
    empty: t('bk.none'),
    rowClass: (b) => `booking-row booking-${b.status}`,
  });
}

async function icalCard() {
  const out = el('div');
  const show = (path) => {
    const url = path ? new URL(path, location.href).href : null;
    mount(out,
      el('p', { class: 'hint' }, t('bk.ical.hint')),
      url ? el('p', null, el('input', { class: 'ical-url', readonly: true, value: url, size: 60 })) : null,
      el('div', { class: 'form-actions' },
        button(t(path || active ? 'bk.ical.rotate' : 'bk.ical.create'), { onClick: async () => { const r = await api.post('me/calendar-feed'); active = true; show(r.path); } }),
        active ? button(t('bk.ical.revoke'), { onClick: async () => { await api.del('me/calendar-feed'); active = false; show(null); } }) : null),
      !path && active ? el('p', null, t('bk.ical.active')) : null);
  };
  let { active } = await api.get('me/calendar-feed');
  show(null);
  return card(t('bk.ical'), out);
}

const minePage = registerPage({
  path: '/bookings',
  titleKey: 'bk.mine.title',
  roles: ['researcher', 'pi'],
  nav: { group: 'bookings', order: 10 },
  async render(container) {
    mount(container, pageHeader(t('bk.mine.title')), loading());
    const { items } = await api.get('bookings', { query: { mine: 1, limit: 200 } });
    const now = Date.now();
    const upcoming = items.filter((b) => Date.parse(b.end) > now).sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    const past = items.filter((b) => Date.parse(b.end) <= now);
    const refresh = () => minePage.render(container);
    const actions = (b) => [
      ['pending', 'confirmed'].includes(b.status)
        ? button(t('bk.cancel'), { class: 'btn-cancel', onClick: async () => { if (await act(b, 'cancel', { confirm: t('bk.cancel.confirm') })) refresh(); } })
        : null,
      b.status === 'confirmed' && Date.parse(b.start) - now < 15 * 60000
        ? button(t('bk.checkin'), { onClick: async () => { if (await act(b, 'checkin')) refresh(); } }) : null,
      b.status === 'in_use' ? button(t('bk.checkout'), { onClick: async () => { if (await act(b, 'checkout')) refresh(); } }) : null,
    ];
    mount(container, pageHeader(t('bk.mine.title')),
      card(t('bk.mine.upcoming'), bookingTable(upcoming, actions)),
      past.length ? card(t('bk.mine.past'), bookingTable(past, () => null)) : null,
      await icalCard());
  },
});

const approvalsPage = registerPage({
  path: '/approvals',
  titleKey: 'bk.approvals.title',
  roles: ['pi', 'operator', 'admin'],
  nav: { group: 'bookings', order: 20 },
  async render(container) {
    mount(container, pageHeader(t('bk.approvals.title')), loading());
    const { items } = await api.get('bookings', { query: { approvable: 1, limit: 200 } });
    const refresh = () => approvalsPage.render(container);
    mount(container, pageHeader(t('bk.approvals.title')),
      items.length ? bookingTable(items, (b) => [
        button(t('bk.approve'), { kind: 'primary', class: 'btn-approve', onClick: async () => { if (await act(b, 'approve')) refresh(); } }),
        button(t('bk.reject'), { class: 'btn-reject', onClick: async () => { if (await act(b, 'reject', { confirm: t('bk.reject'), reason: true })) refresh(); } }),
      ]) : emptyState(t('bk.queue.none')));
  },
});

const deskPage = registerPage({
  path: '/desk',
  titleKey: 'bk.desk.title',
  roles: ['operator', 'admin'],
  nav: { group: 'operations', order: 10 },
  async render(container) {
    mount(container, pageHeader(t('bk.desk.title')), loading());
    const now = Date.now();
    const from = toApiTime(now - 12 * 3600000), to = toApiTime(now + 36 * 3600000);
    const { items } = await api.get('bookings', { query: { from, to, limit: 500 } });
    const mine = getUser();
    const rows = items.filter((b) => ['confirmed', 'in_use', 'pending'].includes(b.status) && (hasRole('admin') || b.owner_org_id === mine.org_id))
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    const refresh = () => deskPage.render(container);
    mount(container, pageHeader(t('bk.desk.title')), bookingTable(rows, (b) => [
      b.status === 'confirmed' ? button(t('bk.checkin'), { onClick: async () => { if (await act(b, 'checkin')) refresh(); } }) : null,
      b.status === 'in_use' ? button(t('bk.checkout'), { onClick: async () => { if (await act(b, 'checkout')) refresh(); } }) : null,
      ['pending', 'confirmed'].includes(b.status)
        ? button(t('bk.cancel'), { onClick: async () => { if (await act(b, 'cancel', { confirm: t('bk.cancel.confirm'), reason: true })) refresh(); } }) : null,
    ]));
  },
});

const maintPage = registerPage({
  path: '/instruments/:id/maintenance',
  titleKey: 'bk.maint.title',
  roles: ['operator', 'admin'],
  nav: null,
  async render(container, params) {
    const id = params.id;
    mount(container, pageHeader(t('bk.maint.title')), loading());
    const refresh = () => maintPage.render(container, params);
    const [blocks, quals] = await Promise.all([
      api.get(`instruments/${id}/blocks`),
      api.get(`instruments/${id}/qualifications`),
    ]);
    const blockForm = form({
      submitLabel: t('bk.block.add'),
      rows: [
        formRow({ label: t('bk.block.start'), name: 'start', type: 'datetime-local', required: true }),
        formRow({ label: t('bk.block.end'), name: 'end', type: 'datetime-local', required: true }),
        formRow({ label: t('bk.block.reason'), name: 'reason', required: true }),
      ],
      onSubmit: async (v) => {
        const r = await api.post(`instruments/${id}/blocks`, { start: `${v.start}:00+08:00`, end: `${v.end}:00+08:00`, reason: v.reason });
        toast(t('bk.block.added', { n: r.cancelled_booking_ids.length }), 'success');
        refresh();
      },
    });
    const qualForm = form({
      submitLabel: t('bk.training.add'),
      rows: [
        formRow({ label: t('bk.training.user'), name: 'user_id', type: 'number', required: true, min: 1 }),
        formRow({ label: t('bk.training.expires'), name: 'expires', type: 'date', required: true }),
      ],
      onSubmit: async (v) => { await api.post(`instruments/${id}/qualifications`, { user_id: v.user_id, expires: v.expires }); refresh(); },
    });
    mount(container, pageHeader(t('bk.maint.title'), link(href(`/instruments/${id}/calendar`), t('bk.open'))),
      card(t('bk.blocks'), table({
        columns: [
          { key: 'time', label: t('bk.time'), render: (b) => formatRange(b.start, b.end) },
          { key: 'reason', label: t('bk.block.reason') },
          { key: 'x', label: t('bk.actions'), render: (b) => button(t('bk.delete'), { onClick: async () => { await api.del(`instruments/${id}/blocks/${b.id}`); refresh(); } }) },
        ],
        rows: blocks.items,
      }), blockForm),
      card(t('bk.training'), table({
        columns: [
          { key: 'user', label: t('bk.user'), render: (q) => `${q.user_name} (${q.user_login})` },
          { key: 'expires', label: t('bk.training.expires'), render: (q) => formatDateTime(q.expires) },
          { key: 'valid', label: t('bk.status'), render: (q) => badge(t(q.valid ? 'bk.training.valid' : 'bk.training.expired'), q.valid ? 'success' : 'neutral') },
          { key: 'x', label: t('bk.actions'), render: (q) => button(t('bk.delete'), { onClick: async () => { await api.del(`instruments/${id}/qualifications/${q.id}`); refresh(); } }) },
        ],
        rows: quals.items,
      }), qualForm));
  },
});

