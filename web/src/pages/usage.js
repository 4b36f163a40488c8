// Usage records, fees and vouchers (issue 6).
//
//   #/usage          everyone: my usage and fees, month by month; a PI also sees the group's
//                    spending by month
//   #/usage/record   operators: record a booking's use in one click or by hand, and correct or
//                    void a record with a reason (new records; the original is never changed)
//   #/ledger         commission and admins: the ledger's checkpoint, verification of the hash
//                    chain (also against a checkpoint kept elsewhere), vouchers with their
//                    balances and history; the commission issues and tops up vouchers
import { api } from '../api.js';
import {
  addMessages, t, localName, formatMoney, formatHours, formatRange, formatDateTime, parseYuanToFen, toApiTime,
  toLocalInput, monthOf,
} from '../i18n.js';
import { registerPage } from '../router.js';
import { getUser, hasRole } from '../session.js';
import {
  el, mount, append, pageHeader, card, table, loading, toast, button, badge, banner, confirmDialog, form, formRow,
  morePager, showError, detailList, uid, inputError,
} from '../ui.js';

addMessages({
  zh: {
    'usage.mine.title': '我的上机与费用',
    'usage.record.title': '上机记录登记',
    'usage.ledger.title': '账本与创新券',
    'usage.period': '月份',
    'usage.allMonths': '全部月份',
    'usage.byMonth': '按月汇总',
    'usage.groupByMonth': '课题组月度支出',
    'usage.records': '上机记录',
    'usage.time': '时间',
    'usage.instrument': '仪器',
    'usage.user': '使用人',
    'usage.hours': '机时（小时）',
    'usage.uses': '次数',
    'usage.fee': '费用',
    'usage.voucher': '创新券抵扣',
    'usage.cash': '现金',
    'usage.kind': '类型',
    'usage.source': '来源',
    'usage.actions': '操作',
    'usage.kind.original': '原始',
    'usage.kind.reversal': '冲销',
    'usage.kind.correction': '更正',
    'usage.reversed': '已更正/作废',
    'usage.source.checkout': '签退',
    'usage.source.manual': '手工登记',
    'usage.source.agent': '仪器端',
    'usage.source.kiosk': '自助终端',
    'usage.source.correction': '更正',
    'usage.none': '暂无上机记录',
    'usage.pending': '待记录的预约',
    'usage.pending.hint': '已签到未签退或未签到的预约；记录后预约即完成。',
    'usage.pending.none': '没有待记录的预约',
    'usage.recordOne': '一键记录',
    'usage.manual': '手工登记',
    'usage.field.instrument': '仪器',
    'usage.field.instrumentId': '仪器 ID',
    'usage.field.user': '使用人用户 ID',
    'usage.field.start': '开始',
    'usage.field.end': '结束',
    'usage.field.samples': '样品数',
    'usage.field.mode': '服务方式',
    'usage.mode.self_operated': '自主上机', 'usage.mode.assisted': '技术共享', 'usage.mode.sample': '委托送样', 'usage.mode.remote': '远程',
    'usage.save': '登记',
    'usage.saved': '已登记：费用 {fee}（创新券 {voucher}，现金 {cash}）',
    'usage.correct': '更正',
    'usage.void': '作废',
    'usage.correct.title': '更正上机记录',
    'usage.correct.hint': '原记录不会被修改：系统写入一条冲销记录和一条更正后的记录。',
    'usage.void.title': '作废上机记录',
    'usage.void.message': '写入一条冲销记录，抵消这次上机的费用。',
    'usage.reason': '原因',
    'usage.corrected': '已更正',
    'usage.voided': '已作废',
    'usage.institution': '本单位仪器的上机记录',
    'usage.checkpoint': '账本检查点',
    'usage.checkpoint.hint': '请定期抄录检查点（记录数和最后一条记录的哈希）并保存在系统之外；结算单上也印有检查点。只有对照系统外保存的检查点，才能证明账本未被改写。',
    'usage.count': '记录数',
    'usage.headId': '最后一条记录',
    'usage.headHash': '最后一条记录的哈希',
    'usage.verify': '验证账本',
    'usage.verify.ok': '账本完整：{n} 条记录，哈希链全部正确（用时 {s} 秒）。',
    'usage.verify.bad': '账本被改动：共 {bad} 条记录有问题，第一条是 #{id}。',
    'usage.problem.hash_mismatch': '内容与哈希不符（被修改或伪造）',
    'usage.problem.broken_link': '与前一条记录的链接断开（前面有记录被删除或调换）',
    'usage.against': '核对留存的检查点',
    'usage.against.count': '检查点记录数',
    'usage.against.hash': '检查点哈希',
    'usage.against.ok': '与留存的检查点一致。',
    'usage.against.bad': '与留存的检查点不一致：第 {n} 条记录的哈希已变（现在是 {found}）。',
    'usage.vouchers': '创新券',
    'usage.voucher.org': '企业',
    'usage.voucher.year': '年度',
    'usage.voucher.amount': '额度',
    'usage.voucher.rate': '抵扣比例',
    'usage.voucher.balance': '余额',
    'usage.voucher.used': '已使用',
    'usage.voucher.draws': '抵扣次数',
    'usage.voucher.history': '明细',
    'usage.voucher.topUp': '追加额度',
    'usage.voucher.topUpAmount': '追加金额（元）',
    'usage.voucher.issue': '发放创新券',
    'usage.voucher.amountYuan': '额度（元）',
    'usage.voucher.ratePercent': '抵扣比例（%）',
    'usage.voucher.issued': '已发放',
    'usage.voucher.none': '尚未发放创新券',
    'usage.voucher.at': '时间',
    'usage.voucher.kind': '类型',
    'usage.voucher.delta': '变动',
    'usage.voucher.after': '余额',
    'usage.voucher.usage': '上机记录',
    'usage.voucher.kind.issue': '发放', 'usage.voucher.kind.top_up': '追加', 'usage.voucher.kind.draw': '抵扣', 'usage.voucher.kind.refund': '退回',
    'usage.badAmount': '请输入金额（元，最多两位小数）',
    'error.usage_overlap': '该仪器在这段时间已有上机记录。',
    'error.in_future': '只能登记已经发生的上机。',
    'error.usage_too_long': '单次上机最长 31 天；更长的使用请分多条登记。',
    'error.usage_too_old': '开始时间早于 400 天前的上机不能登记。',
    'error.period_closed': '该月已结算关账，不能再登记。',
    'error.already_recorded': '这个预约的上机已经记录过，如有错误请更正。',
    'error.already_corrected': '这条记录已经更正或作废过。',
    'error.not_correctable': '冲销记录不能更正，请更正原记录。',
    'error.voucher_exists': '该企业当年已有创新券，请追加额度。',
    'error.not_enterprise': '创新券只能发放给企业。',
  },
  en: {
    'usage.mine.title': 'My usage and fees',
    'usage.record.title': 'Record usage',
    'usage.ledger.title': 'Ledger and vouchers',
    'usage.period': 'Month',
    'usage.allMonths': 'All months',
    'usage.byMonth': 'By month',
    'usage.groupByMonth': 'Group spending by month',
    'usage.records': 'Usage records',
    'usage.time': 'Time',
    'usage.instrument': 'Instrument',
    'usage.user': 'User',
    'usage.hours': 'Hours',
    'usage.uses': 'Uses',
    'usage.fee': 'Fee',
    'usage.voucher': 'Voucher',
    'usage.cash': 'Cash',
    'usage.kind': 'Kind',
    'usage.source': 'Source',
    'usage.actions': 'Actions',
    'usage.kind.original': 'original',
    'usage.kind.reversal': 'reversal',
    'usage.kind.correction': 'correction',
    'usage.reversed': 'corrected/voided',
    'usage.source.checkout': 'check-out',
    'usage.source.manual': 'manual',
    'usage.source.agent': 'instrument PC',
    'usage.source.kiosk': 'kiosk',
    'usage.source.correction': 'correction',
    'usage.none': 'No usage yet',
    'usage.pending': 'Bookings to record',
    'usage.pending.hint': 'Bookings checked in but not out, or not checked in; recording one completes it.',
    'usage.pending.none': 'No bookings to record',
    'usage.recordOne': 'Record',
    'usage.manual': 'Record by hand',
    'usage.field.instrument': 'Instrument',
    'usage.field.instrumentId': 'Instrument id',
    'usage.field.user': 'User id',
    'usage.field.start': 'Start',
    'usage.field.end': 'End',
    'usage.field.samples': 'Samples',
    'usage.field.mode': 'Service mode',
    'usage.mode.self_operated': 'self-operated', 'usage.mode.assisted': 'assisted', 'usage.mode.sample': 'sample service', 'usage.mode.remote': 'remote',
    'usage.save': 'Record',
    'usage.saved': 'Recorded: fee {fee} (voucher {voucher}, cash {cash})',
    'usage.correct': 'Correct',
    'usage.void': 'Void',
    'usage.correct.title': 'Correct a usage record',
    'usage.correct.hint': 'The record is not changed: a reversal and a corrected record are written.',
    'usage.void.title': 'Void a usage record',
    'usage.void.message': 'A reversal is written that cancels this use and its fee.',
    'usage.reason': 'Reason',
    'usage.corrected': 'Corrected',
    'usage.voided': 'Voided',
    'usage.institution': "Usage of the institution's instruments",
    'usage.checkpoint': "The ledger's checkpoint",
    'usage.checkpoint.hint': 'Write the checkpoint (record count and the last hash) down regularly and keep it outside the system; settlement statements print it too. Only a checkpoint kept elsewhere proves the ledger was not rewritten.',
    'usage.count': 'Records',
    'usage.headId': 'Last record',
    'usage.headHash': 'Hash of the last record',
    'usage.verify': 'Verify the ledger',
    'usage.verify.ok': 'The ledger is intact: {n} records, every link correct ({s} s).',
    'usage.verify.bad': 'The ledger was changed: {bad} bad record(s), the first is #{id}.',
    'usage.problem.hash_mismatch': 'content does not match its hash (edited or forged)',
    'usage.problem.broken_link': 'link to the previous record broken (a record before it deleted or moved)',
    'usage.against': 'Check a kept checkpoint',
    'usage.against.count': 'Checkpoint record count',
    'usage.against.hash': 'Checkpoint hash',
    'usage.against.ok': 'Matches the kept checkpoint.',
    'usage.against.bad': 'Does not match the kept checkpoint: record {n} now has hash {found}.',
    'usage.vouchers': 'Innovation vouchers',
    'usage.voucher.org': 'Enterprise',
    'usage.voucher.year': 'Year',
    'usage.voucher.amount': 'Amount',
    'usage.voucher.rate': 'Rate',
    'usage.voucher.balance': 'Balance',
    'usage.voucher.used': 'Used',
    'usage.voucher.draws': 'Draws',
    'usage.voucher.history': 'History',
    'usage.voucher.topUp': 'Top up',
    'usage.voucher.topUpAmount': 'Amount to add (yuan)',
    'usage.voucher.issue': 'Issue a voucher',
    'usage.voucher.amountYuan': 'Amount (yuan)',
    'usage.voucher.ratePercent': 'Rate (%)',
    'usage.voucher.issued': 'Issued',
    'usage.voucher.none': 'No vouchers issued yet',
    'usage.voucher.at': 'When',
    'usage.voucher.kind': 'Kind',
    'usage.voucher.delta': 'Change',
    'usage.voucher.after': 'Balance',
    'usage.voucher.usage': 'Usage record',
    'usage.voucher.kind.issue': 'issue', 'usage.voucher.kind.top_up': 'top-up', 'usage.voucher.kind.draw': 'draw', 'usage.voucher.kind.refund': 'refund',
    'usage.badAmount': 'Enter an amount in yuan (at most two decimals)',
    'error.usage_overlap': 'Another usage record covers part of that time on this instrument.',
    'error.in_future': 'Only usage that has happened can be recorded.',
    'error.usage_too_long': 'A single use lasts at most 31 days; record a longer run as several uses.',
    'error.usage_too_old': 'Usage that started more than 400 days ago cannot be recorded.',
    'error.period_closed': "That month's settlement is closed.",
    'error.already_recorded': "That booking's use is already recorded; correct it instead.",
    'error.already_corrected': 'That record was already corrected or voided.',
    'error.not_correctable': 'A reversal cannot be corrected; correct the original.',
    'error.voucher_exists': 'That enterprise already has a voucher for the year; top it up.',
    'error.not_enterprise': 'Vouchers are for enterprises only.',
  },
});

const MODES = ['self_operated', 'assisted', 'sample', 'remote'];
const fromLocal = (v) => (v ? `${v}:00+08:00` : '');

function kindBadge(u) {
  const kind = { original: 'neutral', reversal: 'danger', correction: 'info' }[u.kind] || 'neutral';
  return [badge(t(`usage.kind.${u.kind}`), kind), u.reversed ? [' ', badge(t('usage.reversed'), 'warning')] : null];
}

const moneyCols = () => [
  { key: 'fee_fen', label: t('usage.fee'), align: 'right', render: (x) => formatMoney(x.fee_fen) },
  { key: 'voucher_fen', label: t('usage.voucher'), align: 'right', render: (x) => formatMoney(x.voucher_fen) },
  { key: 'cash_fen', label: t('usage.cash'), align: 'right', render: (x) => formatMoney(x.cash_fen) },
];

/** A table of usage records; actions(u) gives the action buttons of a row (or null). */
function recordTable(items, { showUser = false, actions = null } = {}) {
  const cols = [
    { key: 'id', label: '#' },
    { key: 'start', label: t('usage.time'), render: (u) => formatRange(u.start, u.end) },
    { key: 'instrument', label: t('usage.instrument'), render: (u) => localName(u, 'instrument_name') },
    showUser ? { key: 'user', label: t('usage.user'), render: (u) => u.user_name } : null,
    { key: 'minutes', label: t('usage.hours'), align: 'right', render: (u) => formatHours(u.minutes, 2) },
    ...moneyCols(),
    { key: 'kind', label: t('usage.kind'), render: kindBadge },
    { key: 'source', label: t('usage.source'), render: (u) => t(`usage.source.${u.source}`) },
    actions ? { key: 'actions', label: t('usage.actions'), render: actions } : null,
  ].filter(Boolean);
  return table({ columns: cols, rows: items, empty: t('usage.none'), class: 'usage-table', rowClass: (u) => `usage-${u.kind}${u.reversed ? ' usage-reversed' : ''}` });
}

/** A paged list: the first page now, "load more" for the rest. */
async function pagedRecords(query, opts) {
  const page = await api.get('usage', { query: { ...query, limit: 50 } });
  const tbl = recordTable(page.items, opts);
  const more = morePager(page.next_cursor, async (cursor) => {
    const next = await api.get('usage', { query: { ...query, limit: 50, cursor } });
    tbl.addRows(next.items);
    return next.next_cursor;
  });
  return el('div', null, tbl, more);
}

function monthTable(items, caption) {
  return table({
    caption,
    class: 'usage-months',
    columns: [
      { key: 'key', label: t('usage.period') },
      { key: 'uses', label: t('usage.uses'), align: 'right' },
      { key: 'minutes', label: t('usage.hours'), align: 'right', render: (x) => formatHours(x.minutes, 1) },
      ...moneyCols(),
    ],
    rows: items,
    empty: t('usage.none'),
  });
}

// ---- my usage ----

registerPage({
  path: '/usage',
  titleKey: 'usage.mine.title',
  roles: 'any',
  nav: { group: 'money', order: 10 },
  async render(container, params, ctx) {
    mount(container, pageHeader(t('usage.mine.title')), loading());
    const user = getUser();
    const period = ctx.query.period || '';
    const [mine, group] = await Promise.all([
      api.get('usage/summary', { query: { mine: 1, group_by: 'period' } }),
      hasRole('pi') && user.group_id ? api.get('usage/summary', { query: { group_id: user.group_id, group_by: 'period' } }) : null,
    ]);
    const months = [...new Set([monthOf(), ...mine.items.map((x) => x.key)])].sort().reverse();
    const select = formRow({
      label: t('usage.period'), name: 'period', type: 'select', value: period,
      options: [{ value: '', label: t('usage.allMonths') }, ...months.map((m) => ({ value: m, label: m }))],
    });
    select.control.addEventListener('change', () => ctx.navigate('/usage', { period: select.control.value }));
    const list = await pagedRecords({ mine: 1, period }, {});
    mount(container, pageHeader(t('usage.mine.title')),
      group ? card(t('usage.groupByMonth'), el('div', { class: 'usage-group' }, monthTable(group.items))) : null,
      card(t('usage.byMonth'), monthTable(mine.items)),
      card(t('usage.records'), el('div', { class: 'toolbar' }, select), list));
  },
});

// ---- recording (operators) ----

/** A dialog asking for corrected times and a reason. Resolves to false or {start, end, samples, reason}. */
function correctDialog(u) {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    const dlg = el('dialog', { class: 'dialog', 'aria-labelledby': titleId });
    const rows = [
      formRow({ label: t('usage.field.start'), name: 'start', type: 'datetime-local', value: toLocalInput(u.start), required: true }),
      formRow({ label: t('usage.field.end'), name: 'end', type: 'datetime-local', value: toLocalInput(u.end), required: true }),
      formRow({ label: t('usage.field.samples'), name: 'samples', type: 'number', value: u.samples, min: 0 }),
      formRow({ label: t('usage.reason'), name: 'reason', type: 'textarea', rows: 2, required: true }),
    ];
    const f = el('form', { method: 'dialog' },
      el('h2', { id: titleId }, t('usage.correct.title')), el('p', { class: 'muted' }, t('usage.correct.hint')), rows,
      el('div', { class: 'form-actions' },
        el('button', { type: 'submit', value: 'ok', class: 'btn btn-primary' }, t('usage.correct')),
        el('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dlg.close('cancel') }, t('ui.cancel'))));
    dlg.append(f);
    dlg.addEventListener('close', () => {
      const v = (name) => f.elements[name].value.trim();
      const out = dlg.returnValue === 'ok'
        ? { start: fromLocal(v('start')), end: fromLocal(v('end')), samples: v('samples') === '' ? undefined : Number(v('samples')), reason: v('reason') }
        : false;
      dlg.remove();
      resolve(out);
    });
    document.body.append(dlg);
    dlg.showModal();
    rows[1].control.focus();
  });
}

function fixButtons(u, refresh) {
  if (u.kind === 'reversal' || u.reversed) return null;
  return [
    button(t('usage.correct'), {
      class: 'btn-correct',
      onClick: async () => {
        const v = await correctDialog(u);
        if (!v) return;
        try {
          await api.post(`usage/${u.id}/correct`, v);
          toast(() => t('usage.corrected'), 'success');
          refresh();
        } catch (e) { showError(null, e); }
      },
    }),
    ' ',
    button(t('usage.void'), {
      kind: 'danger', class: 'btn-void',
      onClick: async () => {
        const v = await confirmDialog({ title: t('usage.void.title'), message: t('usage.void.message'), danger: true, reason: true, confirmLabel: t('usage.void') });
        if (!v) return;
        try {
          await api.post(`usage/${u.id}/correct`, { void: true, reason: v.reason });
          toast(() => t('usage.voided'), 'success');
          refresh();
        } catch (e) { showError(null, e); }
      },
    }),
  ];
}

/** The interval to record for a booking: from check-in (or its start) to its end or now. */
function bookingSpan(b) {
  const start = Date.parse(b.checkin_at || b.start);
  const end = Math.max(start, Math.min(Date.parse(b.end), Date.now() - 1000));
  return { start: toApiTime(start), end: toApiTime(end) };
}

const recordPage = registerPage({
  path: '/usage/record',
  titleKey: 'usage.record.title',
  roles: ['operator', 'admin'],
  nav: { group: 'operations', order: 20 },
  async render(container) {
    mount(container, pageHeader(t('usage.record.title')), loading());
    const user = getUser();
    const refresh = () => recordPage.render(container);
    const week = toApiTime(Date.now() - 7 * 86400000);
    const [inUse, noShow, instruments] = await Promise.all([
      api.get('bookings', { query: { status: 'in_use', limit: 200 } }),
      api.get('bookings', { query: { status: 'no_show', from: week, limit: 200 } }),
      user.org_id ? api.get('instruments', { query: { org: user.org_id, limit: 100 } }) : null,
    ]);
    const own = (b) => hasRole('admin') || b.owner_org_id === user.org_id;
    const pending = [...inUse.items, ...noShow.items].filter(own);
    const pendingTable = table({
      class: 'usage-pending',
      columns: [
        { key: 'instrument', label: t('usage.instrument'), render: (b) => localName(b, 'instrument_name') },
        { key: 'user', label: t('usage.user'), render: (b) => b.user_name },
        { key: 'time', label: t('usage.time'), render: (b) => formatRange(b.start, b.end) },
        { key: 'actions', label: t('usage.actions'), render: (b) => button(t('usage.recordOne'), {
          kind: 'primary', class: 'btn-record',
          onClick: async () => {
            try {
              const u = await api.post('usage', { instrument_id: b.instrument_id, user_id: b.user_id, booking_id: b.id, ...bookingSpan(b) });
              toast(() => t('usage.saved', { fee: formatMoney(u.fee_fen), voucher: formatMoney(u.voucher_fen), cash: formatMoney(u.cash_fen) }), 'success');
              refresh();
            } catch (e) { showError(null, e); }
          },
        }) },
      ],
      rows: pending,
      empty: t('usage.pending.none'),
    });
    const instrumentRow = instruments && instruments.items.length
      ? formRow({ label: t('usage.field.instrument'), name: 'instrument_id', type: 'select', required: true,
        options: instruments.items.map((i) => ({ value: i.id, label: `${localName(i)} (${i.asset_no})` })) })
      : formRow({ label: t('usage.field.instrumentId'), name: 'instrument_id', type: 'number', min: 1, required: true });
    const hourAgo = toLocalInput(Date.now() - 3600000), now = toLocalInput(Date.now());
    const manual = form({
      class: 'usage-form',
      submitLabel: t('usage.save'),
      rows: [
        instrumentRow,
        formRow({ label: t('usage.field.user'), name: 'user_id', type: 'number', min: 1, required: true }),
        formRow({ label: t('usage.field.start'), name: 'start', type: 'datetime-local', value: hourAgo, required: true }),
        formRow({ label: t('usage.field.end'), name: 'end', type: 'datetime-local', value: now, required: true }),
        formRow({ label: t('usage.field.samples'), name: 'samples', type: 'number', min: 0, value: 0 }),
        formRow({ label: t('usage.field.mode'), name: 'service_mode', type: 'select', value: MODES[0], options: MODES.map((m) => ({ value: m, label: t(`usage.mode.${m}`) })) }),
      ],
      onSubmit: async (v) => {
        const u = await api.post('usage', {
          instrument_id: Number(v.instrument_id), user_id: v.user_id, start: fromLocal(v.start), end: fromLocal(v.end),
          samples: v.samples ?? 0, service_mode: v.service_mode,
        });
        toast(() => t('usage.saved', { fee: formatMoney(u.fee_fen), voucher: formatMoney(u.voucher_fen), cash: formatMoney(u.cash_fen) }), 'success');
        refresh();
      },
    });
    const list = await pagedRecords(user.org_id && !hasRole('admin') ? { org_id: user.org_id } : {}, { showUser: true, actions: (u) => fixButtons(u, refresh) });
    mount(container, pageHeader(t('usage.record.title')),
      card(t('usage.pending'), el('p', { class: 'muted' }, t('usage.pending.hint')), pendingTable),
      card(t('usage.manual'), manual),
      card(t('usage.institution'), list));
  },
});

// ---- the ledger and vouchers (commission, admin) ----

function verifyBanner(v) {
  const box = el('div', { class: 'verify-result' });
  if (v.records !== undefined && v.first_bad_id === null) {
    append(box, banner(t('usage.verify.ok', { n: v.records, s: v.seconds }), 'success'));
  } else {
    append(box, el('div', { class: 'banner banner-error', role: 'alert', dataset: { firstBad: v.first_bad_id } },
      t('usage.verify.bad', { bad: v.bad_records, id: v.first_bad_id })));
    append(box, el('ul', { class: 'verify-problems' },
      v.problems.slice(0, 20).map((p) => el('li', null, `#${p.id}: ${t(`usage.problem.${p.problem}`)}`))));
  }
  if (v.against) {
    append(box, v.against.ok
      ? banner(t('usage.against.ok'), 'success')
      : el('div', { class: 'banner banner-error against-bad', role: 'alert' }, t('usage.against.bad', { n: v.against.count, found: v.against.found_hash || '—' })));
  }
  return box;
}

function voucherEvents(v) {
  const box = el('div', { class: 'voucher-events' }, loading());
  api.get(`vouchers/${v.id}/events`, { query: { limit: 100 } }).then((page) => {
    mount(box, table({
      columns: [
        { key: 'at', label: t('usage.voucher.at'), render: (e) => formatDateTime(e.at) },
        { key: 'kind', label: t('usage.voucher.kind'), render: (e) => t(`usage.voucher.kind.${e.kind}`) },
        { key: 'delta_fen', label: t('usage.voucher.delta'), align: 'right', render: (e) => formatMoney(e.delta_fen) },
        { key: 'balance_fen', label: t('usage.voucher.after'), align: 'right', render: (e) => formatMoney(e.balance_fen) },
        { key: 'usage_id', label: t('usage.voucher.usage'), render: (e) => (e.usage_id ? `#${e.usage_id}` : '') },
      ],
      rows: page.items,
    }));
  }, (e) => showError(box, e));
  return box;
}

function voucherTable(items, refresh) {
  const commission = hasRole('commission');
  const tbl = table({
    class: 'voucher-table',
    columns: [
      { key: 'org', label: t('usage.voucher.org'), render: (v) => localName(v, 'org_name') },
      { key: 'year', label: t('usage.voucher.year') },
      { key: 'amount_fen', label: t('usage.voucher.amount'), align: 'right', render: (v) => formatMoney(v.amount_fen) },
      { key: 'rate_percent', label: t('usage.voucher.rate'), align: 'right', render: (v) => `${v.rate_percent}%` },
      { key: 'balance_fen', label: t('usage.voucher.balance'), align: 'right', render: (v) => el('span', { class: 'voucher-balance' }, formatMoney(v.balance_fen)) },
      { key: 'used_fen', label: t('usage.voucher.used'), align: 'right', render: (v) => formatMoney(v.used_fen) },
      { key: 'draws', label: t('usage.voucher.draws'), align: 'right' },
      { key: 'actions', label: t('usage.actions'), render: (v) => [
        button(t('usage.voucher.history'), { class: 'btn-history', onClick: () => {
          const tr = tbl.table.querySelector(`tr[data-voucher="${v.id}"]`);
          const next = tr.nextElementSibling;
          if (next && next.classList.contains('voucher-history-row')) { next.remove(); return; }
          tr.after(el('tr', { class: 'voucher-history-row' }, el('td', { colspan: 8 }, voucherEvents(v))));
        } }),
        commission ? [' ', button(t('usage.voucher.topUp'), { class: 'btn-topup', onClick: async () => {
          const amount = await askAmount();
          if (amount === null) return;
          try {
            await api.post(`vouchers/${v.id}/top_up`, { amount_fen: amount });
            refresh();
          } catch (e) { showError(null, e); }
        } })] : null,
      ] },
    ],
    rows: items,
    empty: t('usage.voucher.none'),
  });
  tbl.table.querySelectorAll('tbody tr').forEach((tr, i) => { if (items[i]) tr.dataset.voucher = items[i].id; });
  return tbl;
}

function askAmount() {
  return new Promise((resolve) => {
    const dlg = el('dialog', { class: 'dialog' });
    const row = formRow({ label: t('usage.voucher.topUpAmount'), name: 'amount', required: true });
    const f = el('form', { method: 'dialog' }, el('h2', null, t('usage.voucher.topUp')), row,
      el('div', { class: 'form-actions' },
        el('button', { type: 'submit', value: 'ok', class: 'btn btn-primary' }, t('usage.voucher.topUp')),
        el('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dlg.close('cancel') }, t('ui.cancel'))));
    dlg.append(f);
    dlg.addEventListener('close', () => {
      const fen = dlg.returnValue === 'ok' ? parseYuanToFen(row.control.value) : null;
      dlg.remove();
      if (dlg.returnValue === 'ok' && !(fen > 0)) toast(() => t('usage.badAmount'), 'error');
      resolve(fen > 0 ? fen : null);
    });
    document.body.append(dlg);
    dlg.showModal();
    row.control.focus();
  });
}

const ledgerPage = registerPage({
  path: '/ledger',
  titleKey: 'usage.ledger.title',
  roles: ['commission', 'admin'],
  nav: { group: 'money', order: 30 },
  async render(container) {
    mount(container, pageHeader(t('usage.ledger.title')), loading());
    const refresh = () => ledgerPage.render(container);
    const [cp, vouchers, orgs] = await Promise.all([
      api.get('usage/checkpoint'),
      api.get('vouchers', { query: { limit: 500 } }),
      hasRole('commission') ? api.get('orgs', { query: { limit: 500 } }) : null,
    ]);
    const result = el('div', { class: 'verify-slot' });
    const run = async (query) => {
      mount(result, loading());
      try {
        mount(result, verifyBanner(await api.get('usage/verify', { query })));
      } catch (e) { mount(result); showError(result, e); }
    };
    const against = form({
      class: 'against-form',
      submitLabel: t('usage.against'),
      rows: [
        formRow({ label: t('usage.against.count'), name: 'checkpoint_count', type: 'number', min: 1, required: true }),
        formRow({ label: t('usage.against.hash'), name: 'checkpoint_hash', required: true, attrs: { pattern: '[0-9a-f]{64}', spellcheck: 'false' } }),
      ],
      onSubmit: (v) => run({ checkpoint_count: v.checkpoint_count, checkpoint_hash: v.checkpoint_hash.trim() }),
    });
    const enterprises = (orgs ? orgs.items : []).filter((o) => o.kind === 'enterprise');
    const issue = hasRole('commission') ? form({
      class: 'voucher-form',
      submitLabel: t('usage.voucher.issue'),
      rows: [
        formRow({ label: t('usage.voucher.org'), name: 'org_id', type: 'select', required: true,
          options: enterprises.map((o) => ({ value: o.id, label: localName(o) })) }),
        formRow({ label: t('usage.voucher.year'), name: 'year', type: 'number', min: 2000, max: 2100, value: Number(monthOf().slice(0, 4)), required: true }),
        formRow({ label: t('usage.voucher.amountYuan'), name: 'amount', required: true }),
        formRow({ label: t('usage.voucher.ratePercent'), name: 'rate_percent', type: 'number', min: 0, max: 100, value: 50 }),
      ],
      onSubmit: async (v) => {
        const fen = parseYuanToFen(v.amount);
        if (fen === null || fen < 0) throw inputError('amount', t('usage.badAmount'));
        await api.post('vouchers', { org_id: Number(v.org_id), year: v.year, amount_fen: fen, rate_percent: v.rate_percent ?? 50 });
        toast(() => t('usage.voucher.issued'), 'success');
        refresh();
      },
    }) : null;
    mount(container, pageHeader(t('usage.ledger.title')),
      card(t('usage.checkpoint'),
        el('p', { class: 'muted' }, t('usage.checkpoint.hint')),
        detailList([
          [t('usage.count'), el('span', { class: 'checkpoint-count num' }, String(cp.count))],
          [t('usage.headId'), cp.head_id ? `#${cp.head_id}` : ''],
          [t('usage.headHash'), el('code', { class: 'checkpoint-hash mono' }, cp.head_hash)],
        ]),
        el('div', { class: 'toolbar' }, button(t('usage.verify'), { kind: 'primary', class: 'btn-verify', onClick: () => run({}) })),
        result,
        el('h3', null, t('usage.against')), against),
      card(t('usage.vouchers'), voucherTable(vouchers.items, refresh), issue ? [el('h3', null, t('usage.voucher.issue')), issue] : null));
  },
});

