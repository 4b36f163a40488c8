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
import { api, ApiError } from '../api.js';
import {
  addMessages, t, getLang, formatMoney, formatRange, formatDate, formatDateTime, localName, shanghaiParts, toApiTime,
} from '../i18n.js';
import { registerPage, href } from '../router.js';
import { getUser, hasRole } from '../session.js';
import {
  el, mount, pageHeader, card, table, loading, toast, button, badge, banner, confirmDialog, form, formRow,
  errorMessage, inputError, link, emptyState, uid, morePager,
} from '../ui.js';
import { registerInstrumentSection } from './instrument.js';

addMessages({
  zh: {
    'bk.calendar.title': '预约日历',
    'bk.calendar.heading': '预约日历：{name}',
    'bk.calendar.back': '← 返回仪器详情',
    'bk.calendar.signin': '登录后即可在空闲时段拖动选择时间进行预约。',
    'bk.calendar.notBookable': '该仪器目前不可预约（未共享、故障维修或已退役），日历仅供查看。',
    'bk.confirm.messageNamed': '预约 {name}：{range}？',
    'bk.section.title': '预约',
    'bk.section.titleStaff': '预约日历与维护',
    'bk.section.book': '预约此仪器',
    'bk.section.bookHint': '打开预约日历，在空闲时段拖动选择开始和结束时间即可预约。',
    'bk.section.view': '查看预约日历',
    'bk.section.signin': '登录后预约',
    'bk.section.signinHint': '登录后即可预约此仪器；未登录也可以查看空闲时间。',
    'bk.section.notBookable': '该仪器目前不可预约（未共享、故障维修或已退役）。',
    'bk.section.internalOnly': '该仪器仅供所属单位内部预约。',
    'bk.section.training': '该仪器需要培训后才能预约。',
    'bk.section.trainedUntil': '您的培训有效期至 {date}。',
    'bk.section.trainingExpired': '您的培训已于 {date} 过期，请联系仪器管理员重新培训。',
    'bk.section.noTraining': '您还没有该仪器的培训记录，请先联系仪器管理员安排培训。',
    'bk.section.staff': '仪器管理',
    'bk.section.maint': '维护与培训',
    'bk.cancel.keep': '保留预约',
    'bk.cancel.message': '{instrument}：{range}',
    'bk.toast.cancel': '已取消预约：{instrument} {range}',
    'bk.toast.approve': '已批准 {user} 的预约：{instrument} {range}',
    'bk.toast.reject': '已拒绝 {user} 的预约：{instrument} {range}',
    'bk.toast.checkin': '已签到：{instrument} {range}',
    'bk.toast.checkout': '已签退：{instrument}',
    'bk.toast.checkoutFee': '已签退：{instrument}，本次记录费用 {fee}',
    'bk.maint.heading': '维护与培训：{name}',
    'bk.maint.back': '← 返回仪器详情',
    'bk.block.endBeforeStart': '结束时间须晚于开始时间。',
    'bk.block.tooLong': '一个维护时段最长 366 天。',
    'bk.blocks.none': '没有安排中的维护时段',
    'bk.training.person': '受训人',
    'bk.training.who': '用户（登录名或姓名）',
    'bk.training.whoHint': '输入本单位用户的登录名或姓名，从建议中选择；其他单位的用户可从建议中选择曾预约本仪器或已有培训记录的人，或输入用户编号，如 #123。',
    'bk.training.notFound': '找不到用户“{text}”。本单位用户请输入登录名或姓名；其他单位的用户请从建议中选择，或输入用户编号（如 #123）。',
    'bk.training.ambiguous': '有 {n} 位用户符合“{text}”，请输入完整的登录名。',
    'bk.training.recorded': '已登记 {name} 的培训，有效期至 {date}',
    'bk.training.expiresHint': '含当天：培训在所选日期当天结束前有效。',
    'bk.training.none': '还没有培训记录',
    'bk.training.booker': '曾预约本仪器',
    'bk.training.trained': '已有培训记录',
    'field.start': '开始时间',
    'field.end': '结束时间',
    'field.reason': '原因',
    'field.user_id': '用户',
    'field.expires': '有效期至',
    'field.purpose': '用途',
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
    'bk.legend.other': '不可预约（如提前预约期限内）',
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
    'bk.cancel.confirm': '取消这个预约？',
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
    'bk.calendar.heading': 'Booking calendar: {name}',
    'bk.calendar.back': '← Back to the instrument',
    'bk.calendar.signin': 'Sign in to book: then drag over free time to choose a start and an end.',
    'bk.calendar.notBookable': 'This instrument cannot be booked now (not shared, under repair or retired); the calendar is for viewing only.',
    'bk.confirm.messageNamed': 'Book {name}, {range}?',
    'bk.section.title': 'Booking',
    'bk.section.titleStaff': 'Calendar and upkeep',
    'bk.section.book': 'Book this instrument',
    'bk.section.bookHint': 'Open the booking calendar and drag over free time to choose a start and an end.',
    'bk.section.view': 'View the booking calendar',
    'bk.section.signin': 'Sign in to book',
    'bk.section.signinHint': 'Sign in to book this instrument; anyone may look at its free time.',
    'bk.section.notBookable': 'This instrument cannot be booked now (not shared, under repair or retired).',
    'bk.section.internalOnly': 'Only its own institution may book this instrument.',
    'bk.section.training': 'This instrument requires training before booking.',
    'bk.section.trainedUntil': 'Your training is valid until {date}.',
    'bk.section.trainingExpired': 'Your training expired on {date}; ask the operator to train you again.',
    'bk.section.noTraining': 'You have no training record for this instrument yet; ask the operator to arrange training.',
    'bk.section.staff': 'Instrument upkeep',
    'bk.section.maint': 'Maintenance and training',
    'bk.cancel.keep': 'Keep booking',
    'bk.cancel.message': '{instrument}: {range}',
    'bk.toast.cancel': 'Booking cancelled: {instrument} {range}',
    'bk.toast.approve': 'Approved {user}\'s booking: {instrument} {range}',
    'bk.toast.reject': 'Rejected {user}\'s booking: {instrument} {range}',
    'bk.toast.checkin': 'Checked in: {instrument} {range}',
    'bk.toast.checkout': 'Checked out: {instrument}',
    'bk.toast.checkoutFee': 'Checked out: {instrument}; fee recorded {fee}',
    'bk.maint.heading': 'Maintenance and training: {name}',
    'bk.maint.back': '← Back to the instrument',
    'bk.block.endBeforeStart': 'The end must be after the start.',
    'bk.block.tooLong': 'A maintenance block lasts at most 366 days.',
    'bk.blocks.none': 'No maintenance blocks ahead',
    'bk.training.person': 'Trainee',
    'bk.training.who': 'User (login or name)',
    'bk.training.whoHint': 'Type the login or name of a user of your institution and pick a suggestion; users of other institutions can be picked among those who booked this instrument or were trained on it, or given by user number, e.g. #123.',
    'bk.training.notFound': 'No user matches "{text}". Type the login or name of a user of your institution; pick users of other institutions from the suggestions, or give their user number (e.g. #123).',
    'bk.training.ambiguous': '{n} users match "{text}"; type the full login.',
    'bk.training.recorded': 'Training of {name} recorded, valid until {date}',
    'bk.training.expiresHint': 'Inclusive: the training is valid until the end of that day.',
    'bk.training.none': 'No training records yet',
    'bk.training.booker': 'booked this instrument',
    'bk.training.trained': 'has a training record',
    'field.start': 'Start',
    'field.end': 'End',
    'field.reason': 'Reason',
    'field.user_id': 'User',
    'field.expires': 'Valid until',
    'field.purpose': 'Purpose',
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
    'bk.legend.other': 'Not bookable (e.g. within the notice period)',
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

const LIVE = ['pending', 'confirmed', 'in_use'];
const instrumentName = (b) => (getLang() === 'zh' ? b.instrument_name_zh || b.instrument_name_en : b.instrument_name_en || b.instrument_name_zh);

function statusBadge(b) {
  const kind = { confirmed: 'success', pending: 'warning', in_use: 'info', no_show: 'danger', rejected: 'danger' }[b.status] || 'neutral';
  const label = t(`status.${b.status}`) + (b.awaiting ? ` · ${t(`bk.awaiting.${b.awaiting}`)}` : '');
  return badge(label, kind);
}

/** The fee the check-out recorded (GET usage by booking), or null when it cannot be read. */
async function recordedFee(bookingId) {
  try {
    const { items } = await api.get('usage', { query: { booking_id: bookingId, limit: 1 } });
    return items.length ? items[0].fee_fen : null;
  } catch {
    return null;
  }
}

/**
 * Says what an action did: "已签到：仪器 时间", a check-out with the fee it recorded. Resolves to a
 * function giving the text in the current language (for toast(), which redraws on a language switch).
 */
async function doneMessage(b, action) {
  const fee = action === 'checkout' ? await recordedFee(b.id) : null;
  return () => {
    const params = { instrument: instrumentName(b), range: formatRange(b.start, b.end), user: b.user_name };
    if (action !== 'checkout') return t(`bk.toast.${action}`, params);
    return fee === null ? t('bk.toast.checkout', params) : t('bk.toast.checkoutFee', { ...params, fee: formatMoney(fee) });
  };
}

async function act(b, action, opts = {}) {
  let body = {};
  if (opts.confirm) {
    const ok = await confirmDialog({
      title: opts.confirm, message: opts.message, reason: !!opts.reason, danger: action !== 'approve',
      confirmLabel: opts.confirmLabel, cancelLabel: opts.cancelLabel,
    });
    if (!ok) return null;
    if (ok.reason) body = { reason: ok.reason };
  }
  try {
    const out = await api.post(`bookings/${b.id}/${action}`, body);
    toast(await doneMessage(b, action), 'success');
    return out;
  } catch (err) {
    toast(() => errorMessage(err), 'error');
    return null;
  }
}

/** Cancels a booking after a dialog whose buttons say what they do (取消预约 / 保留预约). */
function cancelBooking(b, { reason = false } = {}) {
  return act(b, 'cancel', {
    confirm: t('bk.cancel.confirm'), reason,
    message: t('bk.cancel.message', { instrument: instrumentName(b), range: formatRange(b.start, b.end) }),
    confirmLabel: t('bk.cancel'), cancelLabel: t('bk.cancel.keep'),
  });
}

/**
 * The week calendar of one instrument into `node`: busy time (bookings, maintenance, closed
 * hours) and free time from GET availability; selecting a free range books it. Returns a
 * cleanup function. opts.name: the instrument's name for the confirmation, or opts.instrument: the
 * instrument (its name then follows a language switch in the toast); opts.openHours: its open spans
 * ({weekday, from, to}), so the grid shows those hours only.
 */
export function mountBookingCalendar(node, instrumentId, opts = {}) {
  const status = el('div', { class: 'booking-status', role: 'status', 'aria-live': 'polite' });
  const calNode = el('div', { class: 'booking-calendar', 'data-instrument': String(instrumentId) });
  const legend = el('p', { class: 'booking-legend' },
    ['free', 'booking', 'block', 'closed', 'other'].map((k) => el('span', { class: `legend legend-${k}` }, t(`bk.legend.${k}`))));
  // Show the hours the instrument is open (whole hours around its open spans), not 0:00-24:00.
  const spans = opts.openHours || [];
  const minutes = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const first = spans.length ? Math.min(...spans.map((x) => minutes(x.from))) : 0;
  const last = spans.length ? Math.max(...spans.map((x) => minutes(x.to))) : 1440;
  const hour = (m) => `${String(m / 60).padStart(2, '0')}:00:00`;
  const slotMinTime = hour(Math.floor(first / 60) * 60);
  const slotMaxTime = hour(Math.min(1440, Math.ceil(last / 60) * 60));
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
  // Phones show three days at a time: seven columns do not fit in 390 px.
  const narrow = window.matchMedia('(max-width: 640px)').matches;
  return new Calendar(calNode, {
    plugins,
    views: { timeGridThreeDay: { type: 'timeGrid', duration: { days: 3 } } },
    initialView: narrow ? 'timeGridThreeDay' : 'timeGridWeek',
    timeZone: 'UTC',
    locale: getLang() === 'zh' ? 'zh-cn' : 'en',
    firstDay: 1,
    allDaySlot: false,
    nowIndicator: false,
    height: 'auto',
    slotMinTime,
    slotMaxTime,
    selectable: signedIn,
    selectMirror: true,
    buttonText: { today: getLang() === 'zh' ? (narrow ? '今天' : '本周') : (narrow ? 'Today' : 'This week') },
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
      const nameNow = () => (opts.instrument ? localName(opts.instrument) : opts.name);
      const message = nameNow() ? t('bk.confirm.messageNamed', { name: nameNow(), range }) : t('bk.confirm.message', { range });
      const dlgPurpose = await confirmDialog({ title: t('bk.confirm.title'), message, confirmLabel: t('bk.book') });
      if (!dlgPurpose) return;
      try {
        const b = await api.post('bookings', { instrument_id: Number(instrumentId), start, end },
          { headers: { 'Idempotency-Key': `${instrumentId}-${start}-${end}-${Date.now()}` } });
        const msg = () => t('bk.booked', { range: nameNow() ? `${nameNow()} ${range}` : range, status: t(`status.${b.status}`), fee: formatMoney(b.fee_estimate_fen) });
        mount(status, el('p', { class: 'banner banner-success' }, msg()));
        toast(msg, 'success');
      } catch (err) {
        mount(status, el('p', { class: 'banner banner-error', 'data-code': err.code || '' }, errorMessage(err)));
      }
      calendar.refetchEvents();
    },
  });
  }
}

/** May the signed-in user book at all (the API books for researchers and PIs)? */
const mayBook = () => hasRole('researcher', 'pi');

/** May the signed-in user edit the instrument (operator of its institution, or admin)? */
function mayEdit(inst) {
  const u = getUser();
  return !!u && (u.roles.includes('admin') || (u.roles.includes('operator') && u.org_id === inst.owner_org_id));
}

/** Why the user cannot book the instrument now (a message key), or null. */
function bookingBlocker(inst) {
  if (!inst.bookable) return 'bk.calendar.notBookable';
  const u = getUser();
  if (inst.share_mode === 'internal' && u && u.org_id !== inst.owner_org_id) return 'bk.section.internalOnly';
  return null;
}

registerPage({
  path: '/instruments/:id/calendar',
  titleKey: 'bk.calendar.title',
  roles: null,
  nav: null,
  async render(container, params) {
    mount(container, pageHeader(t('bk.calendar.title')), loading());
    const inst = await api.get(`instruments/${encodeURIComponent(params.id)}`);
    const name = localName(inst);
    document.title = `${name} · ${document.title}`;
    const body = el('div');
    const blocker = bookingBlocker(inst);
    const notes = !getUser()
      ? el('div', { class: 'banner banner-info' }, t('bk.calendar.signin'), ' ',
        link(href('/signin', { next: `/instruments/${inst.id}/calendar` }), t('bk.section.signin'), { class: 'btn btn-primary btn-small' }))
      : blocker ? banner(t(blocker), 'warning') : null;
    mount(container,
      el('p', null, link(href(`/instruments/${inst.id}`), t('bk.calendar.back'))),
      pageHeader(t('bk.calendar.heading', { name }),
        mayEdit(inst) ? link(href(`/instruments/${inst.id}/maintenance`), t('bk.section.maint'), { class: 'btn btn-secondary' }) : null),
      notes, body);
    return mountBookingCalendar(body, inst.id, { instrument: inst, openHours: inst.rules.open_hours });
  },
});

// The instrument page's booking section: a "book" button to the calendar for those who may book,
// a sign-in prompt for visitors, and the maintenance and training page for its operators.
registerInstrumentSection({
  id: 'booking',
  order: 10,
  async render(box, inst) {
    const user = getUser();
    const calendarHref = href(`/instruments/${inst.id}/calendar`);
    const blocker = bookingBlocker(inst);
    const lines = [];
    const actions = [];
    if (!user) {
      lines.push(el('p', { class: 'muted' }, t('bk.section.signinHint')));
      actions.push(link(href('/signin', { next: `/instruments/${inst.id}/calendar` }), t('bk.section.signin'), { class: 'btn btn-primary book-signin' }));
      actions.push(link(calendarHref, t('bk.section.view'), { class: 'btn btn-secondary book-view' }));
    } else if (mayBook() && !blocker) {
      lines.push(el('p', { class: 'muted' }, t('bk.section.bookHint')));
      if (inst.rules.requires_training) lines.push(await trainingNote(inst, user));
      actions.push(link(calendarHref, t('bk.section.book'), { class: 'btn btn-primary book-open' }));
    } else {
      if (mayBook()) lines.push(el('p', { class: 'muted' }, t(blocker === 'bk.calendar.notBookable' ? 'bk.section.notBookable' : blocker)));
      actions.push(link(calendarHref, t('bk.section.view'), { class: 'btn btn-secondary book-view' }));
    }
    if (mayEdit(inst)) actions.push(link(href(`/instruments/${inst.id}/maintenance`), t('bk.section.maint'), { class: 'btn btn-secondary instrument-maint' }));
    mount(box, el('h2', null, t(mayEdit(inst) ? 'bk.section.titleStaff' : 'bk.section.title')), lines, el('div', { class: 'form-actions' }, actions));
    box.classList.add('booking-section');
  },
});

/** The signed-in user's training on an instrument that requires it. */
async function trainingNote(inst, user) {
  let q = null;
  try {
    const { items } = await api.get(`instruments/${inst.id}/qualifications`, { query: { user_id: user.id } });
    q = items[0] || null;
  } catch { /* not readable: say only that training is needed */ }
  if (!q) return el('p', { class: 'banner banner-warning' }, t('bk.section.training'), ' ', t('bk.section.noTraining'));
  if (!q.valid) return el('p', { class: 'banner banner-warning' }, t('bk.section.trainingExpired', { date: lastValidDay(q.expires) }));
  return el('p', { class: 'muted' }, t('bk.section.training'), ' ', t('bk.section.trainedUntil', { date: lastValidDay(q.expires) }));
}

/**
 * The last day a training record is valid: the API gives the exclusive end instant (a date
 * 2027-06-30 is stored as 2027-07-01 00:00 Shanghai), so a midnight end shows the day before.
 */
function lastValidDay(expires) {
  const p = shanghaiParts(expires);
  if (!p) return '';
  if (p.hour === 0 && p.minute === 0 && p.second === 0) return formatDate(Date.parse(expires) - 1000);
  return formatDateTime(expires);
}

function bookingTable(rows, actions) {
  return table({
    columns: [
      { key: 'instrument', label: t('bk.instrument'), class: 'col-instrument', render: (b) => link(href(`/instruments/${b.instrument_id}/calendar`), instrumentName(b)) },
      { key: 'time', label: t('bk.time'), class: 'col-time', render: (b) => formatRange(b.start, b.end) },
      { key: 'user', label: t('bk.user'), class: 'col-user', render: (b) => b.user_name },
      { key: 'status', label: t('bk.status'), render: statusBadge },
      { key: 'fee', label: t('bk.fee'), align: 'right', render: (b) => formatMoney(b.fee_estimate_fen) },
      { key: 'actions', label: t('bk.actions'), render: (b) => el('span', { class: 'row-actions' }, actions(b)) },
    ],
    rows,
    empty: t('bk.none'),
    class: 'booking-table table-stack',
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
    // Upcoming: the live ones (pending, confirmed, in use) not yet over, all of them; cancelled,
    // rejected and finished bookings are history, newest first, a page at a time.
    const now = Date.now();
    const nowIso = new Date(now).toISOString();
    const PAST_PAGE = 30;
    const [soon, older] = await Promise.all([
      api.get('bookings', { query: { mine: 1, from: nowIso, limit: 200 } }),
      api.get('bookings', { query: { mine: 1, to: nowIso, limit: PAST_PAGE } }),
    ]);
    const isUpcoming = (b) => Date.parse(b.end) > now && LIVE.includes(b.status);
    const upcoming = soon.items.filter(isUpcoming).sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
    // Later bookings that were cancelled or rejected lead the history; then what started before now.
    const past = [...soon.items.filter((b) => !isUpcoming(b) && Date.parse(b.start) >= now), ...older.items.filter((b) => !isUpcoming(b))];
    const refresh = () => minePage.render(container);
    const actions = (b) => [
      ['pending', 'confirmed'].includes(b.status)
        ? button(t('bk.cancel'), { class: 'btn-cancel', onClick: async () => { if (await cancelBooking(b)) refresh(); } })
        : null,
      b.status === 'confirmed' && Date.parse(b.start) - now < 15 * 60000
        ? button(t('bk.checkin'), { onClick: async () => { if (await act(b, 'checkin')) refresh(); } }) : null,
      b.status === 'in_use' ? button(t('bk.checkout'), { onClick: async () => { if (await act(b, 'checkout')) refresh(); } }) : null,
    ];
    const pastTable = bookingTable(past, () => null);
    const more = morePager(older.next_cursor, async (cursor) => {
      const next = await api.get('bookings', { query: { mine: 1, to: nowIso, limit: PAST_PAGE, cursor } });
      pastTable.addRows(next.items.filter((b) => !isUpcoming(b)));
      return next.next_cursor;
    });
    mount(container, pageHeader(t('bk.mine.title')),
      card(t('bk.mine.upcoming'), bookingTable(upcoming, actions)),
      past.length ? card(t('bk.mine.past'), pastTable, more) : null,
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
        button(t('bk.reject'), { class: 'btn-reject', onClick: async () => { if (await act(b, 'reject', { confirm: t('bk.reject'), reason: true, confirmLabel: t('bk.reject') })) refresh(); } }),
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
        ? button(t('bk.cancel'), { class: 'btn-cancel', onClick: async () => { if (await cancelBooking(b, { reason: true })) refresh(); } }) : null,
    ]));
  },
});

// ---- maintenance and training --------------------------------------------------------

const fieldError = (field, key, params) => inputError(field, t(key, params));

/**
 * Finds the user a training record is for from what the operator typed: a login or name of a
 * known user (the suggestions: their institution's users from GET users, people who booked the
 * instrument or were trained on it), or a user number "#123". Throws a field error otherwise.
 */
async function resolveUser(text, known) {
  const s = text.trim();
  const num = /^#(\d+)(?:\s|$)/.exec(s);
  if (num) return { id: Number(num[1]), name: s.replace(/^#\d+\s*/, '') || `#${num[1]}` };
  const lower = s.toLowerCase();
  const exact = (list) => {
    const byLogin = list.filter((u) => u.login && u.login.toLowerCase() === lower);
    if (byLogin.length) return byLogin;
    return list.filter((u) => u.name === s || `${u.name}（${u.login}）` === s || `${u.name} (${u.login})` === s);
  };
  let found = exact(known);
  if (!found.length) {
    let items = [];
    try { ({ items } = await api.get('users', { query: { q: s, limit: 20 } })); } catch { /* not allowed: only the suggestions */ }
    found = exact(items);
    if (!found.length && items.length === 1) found = items;
  }
  const ids = [...new Set(found.map((u) => u.id))];
  if (ids.length === 1) return found[0];
  if (ids.length > 1) throw fieldError('user', 'bk.training.ambiguous', { n: ids.length, text: s });
  throw fieldError('user', 'bk.training.notFound', { text: s });
}

/** The "who" field of the training form: a text box with suggestions (a datalist) filled as one types. */
function userPickerRow(known) {
  const listId = uid('users');
  const row = formRow({
    label: t('bk.training.who'), name: 'user', required: true, autocomplete: 'off', hint: t('bk.training.whoHint'),
    attrs: { list: listId, spellcheck: 'false' },
  });
  const list = el('datalist', { id: listId });
  const option = (u) => el('option', { value: u.login || `#${u.id} ${u.name}` }, u.note ? `${u.name} · ${u.note}` : u.name);
  const fill = (more) => {
    const seen = new Set();
    mount(list, [...more, ...known].filter((u) => !seen.has(u.id) && seen.add(u.id)).slice(0, 30).map(option));
  };
  fill([]);
  let timer = null, seq = 0;
  row.control.addEventListener('input', () => {
    clearTimeout(timer);
    const q = row.control.value.trim();
    if (!q || q.startsWith('#')) { fill([]); return; }
    timer = setTimeout(async () => {
      const mine = ++seq;
      try {
        const { items } = await api.get('users', { query: { q, limit: 15 } });
        if (mine === seq) fill(items.map((u) => ({ id: u.id, login: u.login, name: u.name })));
      } catch { /* the suggestions stay */ }
    }, 250);
  });
  row.append(list);
  return row;
}

const maintPage = registerPage({
  path: '/instruments/:id/maintenance',
  titleKey: 'bk.maint.title',
  roles: ['operator', 'admin'],
  nav: null,
  async render(container, params) {
    const id = params.id;
    mount(container, pageHeader(t('bk.maint.title')), loading());
    const refresh = () => maintPage.render(container, params);
    const [inst, blocks, quals, booked] = await Promise.all([
      api.get(`instruments/${encodeURIComponent(id)}`),
      api.get(`instruments/${id}/blocks`),
      api.get(`instruments/${id}/qualifications`),
      api.get('bookings', { query: { instrument_id: id, limit: 200 } }).catch(() => ({ items: [] })),
    ]);
    const name = localName(inst);
    document.title = `${name} · ${document.title}`;
    const blockForm = form({
      submitLabel: t('bk.block.add'),
      rows: [
        formRow({ label: t('bk.block.start'), name: 'start', type: 'datetime-local', required: true }),
        formRow({ label: t('bk.block.end'), name: 'end', type: 'datetime-local', required: true }),
        formRow({ label: t('bk.block.reason'), name: 'reason', required: true }),
      ],
      onSubmit: async (v) => {
        // datetime-local values compare as text ("2026-12-01T09:00").
        if (v.end <= v.start) throw fieldError('end', 'bk.block.endBeforeStart');
        if (Date.parse(`${v.end}:00+08:00`) - Date.parse(`${v.start}:00+08:00`) > 366 * 86400000) throw fieldError('end', 'bk.block.tooLong');
        const r = await api.post(`instruments/${id}/blocks`, { start: `${v.start}:00+08:00`, end: `${v.end}:00+08:00`, reason: v.reason });
        toast(() => t('bk.block.added', { n: r.cancelled_booking_ids.length }), 'success');
        refresh();
      },
    });
    // Suggestions for the training form: people trained on it before and people who booked it.
    const known = [];
    for (const q of quals.items) known.push({ id: q.user_id, login: q.user_login, name: q.user_name, note: t('bk.training.trained') });
    for (const b of booked.items) {
      if (!known.some((u) => u.id === b.user_id)) known.push({ id: b.user_id, login: null, name: b.user_name, note: t('bk.training.booker') });
    }
    const qualForm = form({
      submitLabel: t('bk.training.add'),
      class: 'training-form',
      rows: [
        userPickerRow(known),
        formRow({ label: t('bk.training.expires'), name: 'expires', type: 'date', required: true, hint: t('bk.training.expiresHint') }),
      ],
      onSubmit: async (v) => {
        const who = await resolveUser(v.user, known);
        try {
          await api.post(`instruments/${id}/qualifications`, { user_id: who.id, expires: v.expires });
        } catch (err) {
          // The server names user_id; the form's field is "user".
          if (err instanceof ApiError && err.field === 'user_id') err.field = 'user';
          throw err;
        }
        toast(() => t('bk.training.recorded', { name: who.name || v.user, date: v.expires }), 'success');
        refresh();
      },
    });
    mount(container,
      el('p', null, link(href(`/instruments/${inst.id}`), t('bk.maint.back'))),
      pageHeader(t('bk.maint.heading', { name }), link(href(`/instruments/${id}/calendar`), t('bk.open'), { class: 'btn btn-secondary' })),
      card(t('bk.blocks'), table({
        columns: [
          { key: 'time', label: t('bk.time'), render: (b) => formatRange(b.start, b.end) },
          { key: 'reason', label: t('bk.block.reason') },
          { key: 'x', label: t('bk.actions'), render: (b) => button(t('bk.delete'), { onClick: async () => { await api.del(`instruments/${id}/blocks/${b.id}`); refresh(); } }) },
        ],
        rows: blocks.items,
        empty: t('bk.blocks.none'),
        class: 'blocks-table',
      }), blockForm),
      card(t('bk.training'), table({
        columns: [
          { key: 'user', label: t('bk.training.person'), render: (q) => `${q.user_name} (${q.user_login})` },
          { key: 'expires', label: t('bk.training.expires'), render: (q) => lastValidDay(q.expires) },
          { key: 'valid', label: t('bk.status'), render: (q) => badge(t(q.valid ? 'bk.training.valid' : 'bk.training.expired'), q.valid ? 'success' : 'neutral') },
          { key: 'x', label: t('bk.actions'), render: (q) => button(t('bk.delete'), { onClick: async () => { await api.del(`instruments/${id}/qualifications/${q.id}`); refresh(); } }) },
        ],
        rows: quals.items,
        empty: t('bk.training.none'),
        class: 'training-table',
      }), qualForm));
  },
});
