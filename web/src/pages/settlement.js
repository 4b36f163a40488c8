// Monthly settlement (issue 7), #/settlement?period=2026-10&state=&zone=&q=
//
// The commission (and admins, read-only apart from line actions): a period picker, building
// or rebuilding a month's statement, its totals, a chart of the zone-to-zone flows (ECharts,
// loaded on first use), the lines with their states and filters, the zone nets, every
// institution's net position, closing the month, and the CSV / XLSX downloads.
// An operator: the lines of their institution, confirming or disputing (with a reason) those
// where it is the provider, their own net position, and the downloads of their part.
//
// Filters live in the URL (setQuery) so reload, back and the language toggle keep them.
import { api, apiUrl, ApiError } from '../api.js';
import { addMessages, formatDateTime, formatHours, formatMoney, formatNumber, getLang, localName, monthOf, t } from '../i18n.js';
import { registerPage } from '../router.js';
import {
  badge, banner, button, card, clearErrors, confirmDialog, el, emptyState, formRow, formValues, loading, mount, pageHeader,
  showError, table, toast, withBusy,
} from '../ui.js';

addMessages({
  zh: {
    'settlement.title': '月度结算',
    'settlement.nav': '月度结算',
    'settlement.period': '结算期',
    'settlement.period.none': '（尚无结算单）',
    'settlement.build': '生成结算单',
    'settlement.rebuild': '重新生成',
    'settlement.built': '已生成 {period} 的结算单',
    'settlement.rebuilt': '已重新生成 {period} 的结算单',
    'settlement.buildMonth': '月份',
    'settlement.missing': '{period} 尚未生成结算单',
    'settlement.missing.hint': '科委生成结算单后，各单位仪器管理员即可确认或提出异议。',
    'settlement.status.draft': '草稿',
    'settlement.status.closed': '已关闭',
    'settlement.scope.org': '本单位相关的结算明细',
    'settlement.builtAt': '生成时间',
    'settlement.closedAt': '关闭时间',
    'settlement.records': '上机记录数',
    'settlement.records.all': '本期全部机构的上机记录数',
    'settlement.checkpoint': '账本检查点',
    'settlement.checkpoint.value': '{count} 条记录，末条哈希 {hash}',
    'settlement.stale': '结算单生成后，本月的上机记录有变动，请重新生成后再关闭。',
    'settlement.totals': '合计',
    'settlement.uses': '使用次数',
    'settlement.hours': '机时（小时）',
    'settlement.fee': '费用',
    'settlement.voucher': '创新券',
    'settlement.cash': '现金',
    'settlement.counts': '待确认 {open} · 已确认 {confirmed} · 有异议 {disputed}',
    'settlement.flows': '片区间资金流向',
    'settlement.flows.hint': '箭头从付款单位所在片区指向提供仪器的单位所在片区。',
    'settlement.flows.pays': '{zone}（付款）',
    'settlement.flows.receives': '{zone}（收款）',
    'settlement.zoneNet': '片区净额',
    'settlement.zoneNet.pays': '{a} 应向 {b} 支付 {amount}',
    'settlement.zoneNet.even': '{a} 与 {b} 收支持平',
    'settlement.lines': '结算明细',
    'settlement.provider': '提供方单位',
    'settlement.payer': '付款方单位',
    'settlement.zones': '片区（付 → 收）',
    'settlement.zones.same': '（片区内）',
    'settlement.state': '状态',
    'settlement.reason': '说明',
    'settlement.actions': '操作',
    'settlement.state.open': '待确认',
    'settlement.state.confirmed': '已确认',
    'settlement.state.disputed': '有异议',
    'settlement.filter.state': '状态筛选',
    'settlement.filter.zone': '片区筛选',
    'settlement.filter.q': '单位筛选',
    'settlement.filter.all': '全部',
    'settlement.filter.apply': '筛选',
    'settlement.filter.side': '本单位的角色',
    'settlement.side.provider': '本单位提供服务（需本单位确认）',
    'settlement.side.payer': '本单位付款',
    'settlement.side.mine': '本单位相关的全部明细',
    'settlement.side.all': '全部明细',
    'settlement.filter.range': '第 {from}–{to} 条，筛选后 {shown} 条（共 {total} 条），费用合计 {fee}',
    'settlement.filter.none': '没有符合筛选条件的明细（共 {total} 条）',
    'settlement.disputed.hint': '待提供方重新确认',
    'settlement.disputed.title': '提供方单位的仪器管理员核实后重新确认即解除异议；若需更正上机记录，更正后重新生成结算单，数据有变化的明细将回到待确认。',
    'settlement.confirm': '确认',
    'settlement.dispute': '提出异议',
    'settlement.dispute.title': '对该结算明细提出异议',
    'settlement.dispute.message': '{provider} ← {payer}：{fee}。请说明异议原因。核实后由本单位重新点击“确认”即可解除异议（如需更正上机记录，更正后请科委重新生成结算单）；异议解除前本月结算不能关闭。',
    'settlement.dispute.reason': '异议原因',
    'settlement.confirmed': '已确认该明细',
    'settlement.disputed': '已提出异议',
    'settlement.net': '各单位净额（多边轧差）',
    'settlement.net.org': '单位',
    'settlement.net.zone': '片区',
    'settlement.net.receivable': '应收（作为提供方）',
    'settlement.net.payable': '应付（作为付款方的现金）',
    'settlement.net.net': '净额',
    'settlement.net.receives': '应收',
    'settlement.net.pays': '应付',
    'settlement.net.even': '持平',
    'settlement.net.fund': '创新券资金',
    'settlement.close': '关闭结算期',
    'settlement.close.title': '关闭 {period} 的结算',
    'settlement.close.message': '关闭后该月结算单不可更改，该月的上机记录更正将计入当前月份。确定关闭？',
    'settlement.closed': '{period} 已关闭',
    'settlement.close.blocked': '仍有 {n} 条明细有异议，不能关闭。异议由提供方单位的仪器管理员核实后重新确认即解除；若需更正上机记录，更正后重新生成结算单（数据有变化的明细回到待确认）。',
    'settlement.download': '下载',
    'settlement.download.csv': '下载 CSV',
    'settlement.download.xlsx': '下载 Excel (XLSX)',
    'error.disputed_lines': '仍有明细存在异议：须由提供方单位重新确认（或更正后重新生成结算单）后才能关闭本月结算。',
    'error.period_not_ended': '该月尚未结束，不能关闭。',
    'error.statement_stale': '结算单生成后上机记录有变动，请先重新生成。',
    'error.settlement_invariant': '结算校验未通过（金额不平衡），结算单未保存。请联系管理员核查上机记录。',
    'audit.action.settlement_build': '生成结算单',
    'audit.action.settlement_rebuild': '重新生成结算单',
    'audit.action.settlement_build_failed': '结算单校验失败',
    'audit.action.settlement_line_confirm': '确认结算明细',
    'audit.action.settlement_line_dispute': '结算明细异议',
    'audit.action.settlement_close': '关闭结算期',
    'audit.action.settlement_close_failed': '关闭结算期失败',
  },
  en: {
    'settlement.title': 'Monthly settlement',
    'settlement.nav': 'Monthly settlement',
    'settlement.period': 'Period',
    'settlement.period.none': '(no statements yet)',
    'settlement.build': 'Build statement',
    'settlement.rebuild': 'Rebuild',
    'settlement.built': 'Statement of {period} built',
    'settlement.rebuilt': 'Statement of {period} rebuilt',
    'settlement.buildMonth': 'Month',
    'settlement.missing': 'No statement for {period} yet',
    'settlement.missing.hint': 'Once the commission builds it, each institution\'s operators confirm or dispute their lines.',
    'settlement.status.draft': 'Draft',
    'settlement.status.closed': 'Closed',
    'settlement.scope.org': 'The lines of your institution',
    'settlement.builtAt': 'Built',
    'settlement.closedAt': 'Closed',
    'settlement.records': 'Usage records',
    'settlement.records.all': 'Usage records of the period (all institutions)',
    'settlement.checkpoint': 'Ledger checkpoint',
    'settlement.checkpoint.value': '{count} records, head hash {hash}',
    'settlement.stale': 'The month\'s usage changed after the statement was built. Rebuild it before closing.',
    'settlement.totals': 'Totals',
    'settlement.uses': 'Uses',
    'settlement.hours': 'Hours',
    'settlement.fee': 'Fee',
    'settlement.voucher': 'Voucher',
    'settlement.cash': 'Cash',
    'settlement.counts': 'Open {open} · confirmed {confirmed} · disputed {disputed}',
    'settlement.flows': 'Zone-to-zone flows',
    'settlement.flows.hint': 'From the paying institution\'s zone to the providing institution\'s zone.',
    'settlement.flows.pays': '{zone} (pays)',
    'settlement.flows.receives': '{zone} (receives)',
    'settlement.zoneNet': 'Zone net',
    'settlement.zoneNet.pays': '{a} pays {b} {amount}',
    'settlement.zoneNet.even': '{a} and {b} are even',
    'settlement.lines': 'Lines',
    'settlement.provider': 'Provider',
    'settlement.payer': 'Payer',
    'settlement.zones': 'Zones (payer → provider)',
    'settlement.zones.same': '(within the zone)',
    'settlement.state': 'State',
    'settlement.reason': 'Note',
    'settlement.actions': 'Actions',
    'settlement.state.open': 'Open',
    'settlement.state.confirmed': 'Confirmed',
    'settlement.state.disputed': 'Disputed',
    'settlement.filter.state': 'State filter',
    'settlement.filter.zone': 'Zone filter',
    'settlement.filter.q': 'Institution filter',
    'settlement.filter.all': 'All',
    'settlement.filter.apply': 'Filter',
    'settlement.filter.side': 'Your institution as',
    'settlement.side.provider': 'Provider (lines you confirm)',
    'settlement.side.payer': 'Payer',
    'settlement.side.mine': 'All lines of your institution',
    'settlement.side.all': 'All lines',
    'settlement.filter.range': 'Lines {from}–{to} of {shown} matching ({total} in all); fees {fee}',
    'settlement.filter.none': 'No line matches the filters ({total} in all)',
    'settlement.disputed.hint': 'awaiting the provider\'s confirmation',
    'settlement.disputed.title': 'The dispute ends when the provider institution\'s operator checks the line and confirms it again; if usage must be corrected, correct it and rebuild the statement: lines whose figures change go back to open.',
    'settlement.confirm': 'Confirm',
    'settlement.dispute': 'Dispute',
    'settlement.dispute.title': 'Dispute this line',
    'settlement.dispute.message': '{provider} ← {payer}: {fee}. Say why. Once checked, confirm the line again to end the dispute (if usage must be corrected, correct it and ask the commission to rebuild the statement); until then the month cannot be closed.',
    'settlement.dispute.reason': 'Reason for the dispute',
    'settlement.confirmed': 'Line confirmed',
    'settlement.disputed': 'Line disputed',
    'settlement.net': 'Net positions (multilateral netting)',
    'settlement.net.org': 'Institution',
    'settlement.net.zone': 'Zone',
    'settlement.net.receivable': 'Receivable (as provider)',
    'settlement.net.payable': 'Payable (cash as payer)',
    'settlement.net.net': 'Net',
    'settlement.net.receives': 'receives',
    'settlement.net.pays': 'pays',
    'settlement.net.even': 'even',
    'settlement.net.fund': 'Voucher fund',
    'settlement.close': 'Close period',
    'settlement.close.title': 'Close the settlement of {period}',
    'settlement.close.message': 'A closed statement can no longer change; corrections of its usage go to the current month. Close it?',
    'settlement.closed': '{period} closed',
    'settlement.close.blocked': '{n} lines are disputed; the month cannot be closed. A dispute ends when the provider institution\'s operator confirms the line again; if usage must be corrected, correct it and rebuild the statement (lines whose figures change go back to open).',
    'settlement.download': 'Download',
    'settlement.download.csv': 'Download CSV',
    'settlement.download.xlsx': 'Download Excel (XLSX)',
    'error.disputed_lines': 'Some lines are disputed: the provider must confirm them again (or the statement be rebuilt after a correction) before the month can close.',
    'error.period_not_ended': 'That month has not ended yet.',
    'error.statement_stale': 'The usage changed after the statement was built; rebuild it first.',
    'error.settlement_invariant': 'The statement failed its checks (the sums do not balance) and was not stored. Ask an administrator to check the usage records.',
    'audit.action.settlement_build': 'Statement built',
    'audit.action.settlement_rebuild': 'Statement rebuilt',
    'audit.action.settlement_build_failed': 'Statement failed its checks',
    'audit.action.settlement_line_confirm': 'Settlement line confirmed',
    'audit.action.settlement_line_dispute': 'Settlement line disputed',
    'audit.action.settlement_close': 'Period closed',
    'audit.action.settlement_close_failed': 'Closing failed',
  },
});

const STATES = ['open', 'confirmed', 'disputed'];

/** A one-line form (fields and a submit button side by side); errors show in a banner above it. */
function inlineForm({ class: cls, rows, submitLabel, onSubmit }) {
  const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
  const f = el('form', { class: ['toolbar', cls] }, rows, el('div', { class: 'form-row' }, submit));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(f.parentNode);
    withBusy(submit, async () => {
      try {
        await onSubmit(formValues(f));
      } catch (err) {
        showError(f.parentNode, err);
      }
    });
  });
  return f;
}
const STATE_KIND = { open: 'neutral', confirmed: 'success', disputed: 'danger' };

/** The month before the current one (Shanghai), "YYYY-MM". */
function lastMonth() {
  const [y, m] = monthOf().split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

function zoneName(st, code) {
  const z = (st.zones || []).find((x) => x.code === code);
  return z ? localName(z) : code;
}

function orgName(line, side) {
  return getLang() === 'zh' ? line[`${side}_org_name_zh`] || line[`${side}_org_name_en`] : line[`${side}_org_name_en`] || line[`${side}_org_name_zh`];
}

/** May the user confirm or dispute this line? (admins any; operators their institution's as provider) */
function mayAct(user, st, line) {
  if (st.status !== 'draft') return false;
  const roles = user.roles || [];
  return roles.includes('admin') || (roles.includes('operator') && user.org_id === line.provider_org_id);
}

// ECharts renders tooltips as HTML: names from the API are escaped.
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function drawFlowChart(node, st) {
  const echarts = await import('echarts');
  if (!node.isConnected) return null;
  const chart = echarts.init(node, null, { renderer: 'svg' });
  const zones = [...new Set(st.zone_flows.flatMap((f) => [f.from_zone, f.to_zone]))];
  // Narrow screens: zone codes instead of the long names.
  const narrow = node.clientWidth < 640;
  const label = (z) => (narrow ? z : zoneName(st, z));
  const pays = (z) => t('settlement.flows.pays', { zone: label(z) });
  const gets = (z) => t('settlement.flows.receives', { zone: label(z) });
  chart.setOption({
    animation: false,
    tooltip: {
      trigger: 'item',
      formatter: (p) => (p.dataType === 'edge' ? `${esc(p.data.source)} → ${esc(p.data.target)}<br>${formatMoney(p.data.fen)}` : esc(p.name)),
    },
    series: [{
      type: 'sankey',
      left: 10, right: narrow ? 130 : 250, top: 10, bottom: 10,
      nodeAlign: 'justify',
      data: [...zones.map((z) => ({ name: pays(z) })), ...zones.map((z) => ({ name: gets(z) }))],
      links: st.zone_flows.filter((f) => f.fee_fen > 0).map((f) => ({ source: pays(f.from_zone), target: gets(f.to_zone), value: f.fee_fen / 100, fen: f.fee_fen })),
      label: { formatter: (p) => p.name },
      lineStyle: { color: 'gradient', opacity: 0.45 },
    }],
  });
  const onResize = () => chart.resize();
  window.addEventListener('resize', onResize);
  return () => { window.removeEventListener('resize', onResize); chart.dispose(); };
}

function totalsCard(st) {
  const tt = st.totals;
  const tile = (label, value) => el('div', { class: 'settlement-tile' }, el('div', { class: 'muted' }, label), el('div', { class: 'num settlement-figure' }, value));
  return card(t('settlement.totals'),
    el('div', { class: 'grid settlement-totals', style: { gridTemplateColumns: 'repeat(auto-fill, minmax(150px, 1fr))' } },
      tile(t('settlement.uses'), formatNumber(tt.uses, 0)),
      tile(t('settlement.hours'), formatHours(tt.minutes, 2)),
      tile(t('settlement.fee'), formatMoney(tt.fee_fen)),
      tile(t('settlement.voucher'), formatMoney(tt.voucher_fen)),
      tile(t('settlement.cash'), formatMoney(tt.cash_fen))),
    el('p', { class: 'muted settlement-counts' }, t('settlement.counts', st.counts)));
}

function headCard(st) {
  const cp = st.checkpoint;
  return el('div', { class: 'settlement-head' },
    el('p', null,
      badge(t(`settlement.status.${st.status}`), st.status === 'closed' ? 'success' : 'info'), ' ',
      st.scope === 'org' ? badge(t('settlement.scope.org'), 'role') : null, ' ',
      el('span', { class: 'muted' }, `${t('settlement.builtAt')} ${formatDateTime(st.built_at)}`),
      st.closed_at ? el('span', { class: 'muted' }, ` · ${t('settlement.closedAt')} ${formatDateTime(st.closed_at)}`) : null,
      // An operator's view is their institution's part of a statement built
      // over the whole period: the count is the period's, said so.
      el('span', { class: 'muted' }, ` · ${t(st.scope === 'org' ? 'settlement.records.all' : 'settlement.records')} ${formatNumber(st.records, 0)}`)),
    el('p', { class: 'muted settlement-checkpoint' }, `${t('settlement.checkpoint')}: `,
      el('span', { class: 'mono', title: cp.head_hash }, t('settlement.checkpoint.value', { count: formatNumber(cp.count, 0), hash: cp.head_hash.slice(0, 16) + '…' }))),
    st.stale && st.status === 'draft' ? banner(t('settlement.stale'), 'warning') : null);
}

function downloads(st) {
  const url = (format) => apiUrl(`settlements/${st.period}/export`, { format });
  return [
    el('a', { class: 'btn btn-secondary', href: url('csv'), download: '' }, t('settlement.download.csv')),
    el('a', { class: 'btn btn-secondary', href: url('xlsx'), download: '' }, t('settlement.download.xlsx')),
  ];
}

function netTable(st) {
  const rows = st.net_positions.map((n) => (n.party ? { fund: true, ...n } : n));
  const direction = (n) => (n.net_fen > 0 ? badge(t('settlement.net.receives'), 'success') : n.net_fen < 0 ? badge(t('settlement.net.pays'), 'warning') : badge(t('settlement.net.even')));
  return card(t('settlement.net'), table({
    caption: t('settlement.net'),
    class: 'settlement-net',
    columns: [
      { key: 'org', label: t('settlement.net.org'), render: (n) => (n.fund ? t('settlement.net.fund') : `${localName(n)} (${n.org_code})`) },
      { key: 'zone', label: t('settlement.net.zone'), render: (n) => (n.fund ? '' : zoneName(st, n.zone)) },
      { key: 'receivable_fen', label: t('settlement.net.receivable'), align: 'right', render: (n) => (n.fund ? '' : formatMoney(n.receivable_fen)) },
      { key: 'payable_fen', label: t('settlement.net.payable'), align: 'right', render: (n) => (n.fund ? '' : formatMoney(n.payable_fen)) },
      { key: 'net_fen', label: t('settlement.net.net'), align: 'right', render: (n) => formatMoney(n.net_fen) },
      { key: 'dir', label: '', render: direction },
    ],
    rows,
  }));
}

function zoneNetList(st) {
  if (!st.zone_net.length) return null;
  return el('ul', { class: 'settlement-zone-net' }, st.zone_net.map((z) => {
    const a = zoneName(st, z.zone_a);
    const b = zoneName(st, z.zone_b);
    if (z.net_fen === 0) return el('li', null, t('settlement.zoneNet.even', { a, b }));
    return el('li', null, z.net_fen > 0
      ? t('settlement.zoneNet.pays', { a, b, amount: formatMoney(z.net_fen) })
      : t('settlement.zoneNet.pays', { a: b, b: a, amount: formatMoney(-z.net_fen) }));
  }));
}

const PAGE_SIZE = 50;

/** The side filter's choices for the user ([] when they have no institution), and its default. */
function sideChoices(st, user) {
  if (!user.org_id) return { options: [], fallback: 'all' };
  const operator = (user.roles || []).includes('operator');
  const options = ['provider', 'payer', 'mine', ...(st.scope === 'all' ? ['all'] : [])];
  // An operator starts with the lines their institution provided: the ones it confirms or disputes.
  return { options, fallback: operator ? 'provider' : 'all' };
}

function linesCard(st, ctx) {
  const q = ctx.query;
  const needle = (q.q || '').trim().toLowerCase();
  const org = ctx.user.org_id;
  const sides = sideChoices(st, ctx.user);
  const side = sides.options.includes(q.side) ? q.side : sides.fallback;
  const bySide = (l) => side === 'all' || !org
    || (side === 'provider' && l.provider_org_id === org)
    || (side === 'payer' && l.payer_org_id === org)
    || (side === 'mine' && (l.provider_org_id === org || l.payer_org_id === org));
  const shown = st.lines.filter((l) => bySide(l) && (!q.state || l.state === q.state)
    && (!q.zone || l.provider_zone === q.zone || l.payer_zone === q.zone)
    && (!needle || [l.provider_org_code, l.payer_org_code, l.provider_org_name_zh, l.payer_org_name_zh, l.provider_org_name_en, l.payer_org_name_en]
      .some((s) => (s || '').toLowerCase().includes(needle))));
  const zones = st.zones.map((z) => ({ value: z.code, label: localName(z) }));
  const filters = inlineForm({
    class: 'settlement-filters',
    submitLabel: t('settlement.filter.apply'),
    rows: [
      sides.options.length ? formRow({
        label: t('settlement.filter.side'), name: 'side', type: 'select', value: side,
        options: sides.options.map((s) => ({ value: s, label: t(`settlement.side.${s}`) })),
      }) : null,
      formRow({ label: t('settlement.filter.state'), name: 'state', type: 'select', value: q.state || '', options: [{ value: '', label: t('settlement.filter.all') }, ...STATES.map((s) => ({ value: s, label: t(`settlement.state.${s}`) }))] }),
      formRow({ label: t('settlement.filter.zone'), name: 'zone', type: 'select', value: q.zone || '', options: [{ value: '', label: t('settlement.filter.all') }, ...zones] }),
      formRow({ label: t('settlement.filter.q'), name: 'q', value: q.q || '' }),
    ],
    onSubmit: async (values) => ctx.navigate('/settlement', { period: st.period, ...values }),
  });
  const act = async (line, action) => {
    let body;
    if (action === 'dispute') {
      const answer = await confirmDialog({
        title: t('settlement.dispute.title'),
        message: t('settlement.dispute.message', { provider: orgName(line, 'provider'), payer: orgName(line, 'payer'), fee: formatMoney(line.fee_fen) }),
        confirmLabel: t('settlement.dispute'), danger: true, reason: true, reasonLabel: t('settlement.dispute.reason'),
      });
      if (!answer) return;
      body = { reason: answer.reason };
    }
    try {
      await api.post(`settlements/${st.period}/lines/${line.id}/${action}`, body);
    } catch (err) {
      showError(null, err);
      return;
    }
    toast(() => t(action === 'confirm' ? 'settlement.confirmed' : 'settlement.disputed'), 'success');
    ctx.rerender();
  };
  // Localized zone names; a line within one zone names it once.
  const zoneCell = (l) => (l.payer_zone === l.provider_zone
    ? el('span', { title: l.payer_zone }, zoneName(st, l.payer_zone), ' ', el('span', { class: 'muted' }, t('settlement.zones.same')))
    : el('span', { title: `${l.payer_zone} → ${l.provider_zone}` }, `${zoneName(st, l.payer_zone)} → ${zoneName(st, l.provider_zone)}`));
  const actions = (l) => {
    if (mayAct(ctx.user, st, l)) {
      return el('div', { class: 'row-actions' },
        l.state !== 'confirmed' ? button(t('settlement.confirm'), { kind: 'primary', class: 'btn-small', onClick: () => act(l, 'confirm') }) : null,
        l.state !== 'disputed' ? button(t('settlement.dispute'), { kind: 'danger', class: 'btn-small', onClick: () => act(l, 'dispute') }) : null);
    }
    // Others (the commission) learn what clears a dispute.
    return l.state === 'disputed' && st.status === 'draft'
      ? el('span', { class: 'muted dispute-hint', title: t('settlement.disputed.title') }, t('settlement.disputed.hint')) : '';
  };
  const columns = [
    { key: 'provider', label: t('settlement.provider'), class: 'settlement-org', render: (l) => `${orgName(l, 'provider')} (${l.provider_org_code})` },
    { key: 'payer', label: t('settlement.payer'), class: 'settlement-org', render: (l) => `${orgName(l, 'payer')} (${l.payer_org_code})` },
    { key: 'zones', label: t('settlement.zones'), class: 'settlement-zones', render: zoneCell },
    { key: 'uses', label: t('settlement.uses'), align: 'right', render: (l) => formatNumber(l.uses, 0) },
    { key: 'minutes', label: t('settlement.hours'), align: 'right', render: (l) => formatHours(l.minutes, 2) },
    { key: 'fee_fen', label: t('settlement.fee'), align: 'right', render: (l) => formatMoney(l.fee_fen) },
    { key: 'voucher_fen', label: t('settlement.voucher'), align: 'right', render: (l) => formatMoney(l.voucher_fen) },
    { key: 'cash_fen', label: t('settlement.cash'), align: 'right', render: (l) => formatMoney(l.cash_fen) },
    { key: 'state', label: t('settlement.state'), render: (l) => badge(t(`settlement.state.${l.state}`), STATE_KIND[l.state]) },
    { key: 'reason', label: t('settlement.reason') },
    { key: 'actions', label: t('settlement.actions'), render: actions },
  ];

  // One page of the lines at a time; the page number lives in the URL (setQuery, no reload).
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  let pageNo = Math.min(Math.max(1, Number(q.page) || 1), pages);
  const fee = formatMoney(shown.reduce((sum, l) => sum + l.fee_fen, 0));
  const count = el('p', { class: 'muted settlement-count', role: 'status' });
  const tableBox = el('div', { class: 'settlement-lines-box' });
  const pager = el('nav', { class: 'pager settlement-pager', 'aria-label': t('settlement.lines') });
  const show = (n, { focus = false } = {}) => {
    pageNo = n;
    const from = (n - 1) * PAGE_SIZE;
    const rows = shown.slice(from, from + PAGE_SIZE);
    count.textContent = shown.length
      ? t('settlement.filter.range', { from: from + 1, to: from + rows.length, shown: shown.length, total: st.lines.length, fee })
      : t('settlement.filter.none', { total: st.lines.length });
    mount(tableBox, table({ caption: t('settlement.lines'), class: 'settlement-lines', rowClass: (l) => `line-${l.state}`, columns, rows }));
    const go = (k) => button(t(k < n ? 'ui.page.prev' : 'ui.page.next'), {
      class: k < n ? 'pager-prev' : 'pager-next', disabled: k < 1 || k > pages,
      onClick: () => { ctx.setQuery({ page: k > 1 ? String(k) : '' }); show(k, { focus: true }); },
    });
    mount(pager, pages > 1 ? [go(n - 1), el('span', { class: 'pager-status' }, t('ui.page.of', { page: n, pages })), go(n + 1)] : null);
    if (focus) count.scrollIntoView({ block: 'nearest' });
  };
  show(pageNo);
  return card(t('settlement.lines'), filters, count, tableBox, pager);
}

async function renderStatement(container, st, ctx, picker) {
  const user = ctx.user;
  const commission = (user.roles || []).includes('commission');
  const actions = [];
  if (commission && st.status === 'draft') {
    actions.push(button(t('settlement.rebuild'), {
      onClick: async () => {
        try {
          await api.post('settlements', { period: st.period });
          toast(() => t('settlement.rebuilt', { period: st.period }), 'success');
          ctx.rerender();
        } catch (err) { showError(container, err); }
      },
    }));
    actions.push(button(t('settlement.close'), {
      kind: 'primary',
      onClick: async () => {
        const ok = await confirmDialog({ title: t('settlement.close.title', { period: st.period }), message: t('settlement.close.message'), confirmLabel: t('settlement.close'), danger: true });
        if (!ok) return;
        try {
          await api.post(`settlements/${st.period}/close`);
          toast(() => t('settlement.closed', { period: st.period }), 'success');
          ctx.rerender();
        } catch (err) { showError(container, err); }
      },
    }));
  }
  const chartNode = st.scope === 'all' && st.zone_flows.length ? el('div', { class: 'settlement-chart', role: 'img', 'aria-label': t('settlement.flows'), style: { width: '100%', height: '280px' } }) : null;
  mount(container,
    pageHeader(`${t('settlement.title')} · ${st.period}`, ...downloads(st), ...actions),
    picker,
    headCard(st),
    st.counts.disputed && st.status === 'draft' && commission ? banner(t('settlement.close.blocked', { n: st.counts.disputed }), 'warning') : null,
    totalsCard(st),
    st.scope === 'all' ? card(t('settlement.flows'), el('p', { class: 'muted' }, t('settlement.flows.hint')), chartNode,
      el('h3', null, t('settlement.zoneNet')), zoneNetList(st)) : null,
    linesCard(st, ctx),
    netTable(st));
  return chartNode ? drawFlowChart(chartNode, st) : null;
}

function periodPicker(items, period, ctx) {
  const commission = (ctx.user.roles || []).includes('commission');
  const options = items.map((s) => ({ value: s.period, label: `${s.period} · ${t(`settlement.status.${s.status}`)}` }));
  if (!options.some((o) => o.value === period)) options.unshift({ value: period, label: period });
  const select = formRow({ label: t('settlement.period'), name: 'period', type: 'select', value: period, options });
  select.control.addEventListener('change', () => ctx.navigate('/settlement', { period: select.control.value }));
  const build = commission ? inlineForm({
    class: 'settlement-build',
    submitLabel: t('settlement.build'),
    rows: [formRow({ label: t('settlement.buildMonth'), name: 'period', type: 'month', value: period, attrs: { max: monthOf() } })],
    onSubmit: async (values) => {
      const created = await api.post('settlements', { period: values.period });
      toast(() => t('settlement.built', { period: created.period }), 'success');
      ctx.navigate('/settlement', { period: created.period });
    },
  }) : null;
  return el('div', { class: 'settlement-picker' }, el('div', { class: 'toolbar' }, select, build));
}

registerPage({
  path: '/settlement',
  titleKey: 'settlement.title',
  roles: ['commission', 'admin', 'operator'],
  nav: { group: 'money', order: 30, labelKey: 'settlement.nav' },
  async render(container, _params, ctx) {
    mount(container, pageHeader(t('settlement.title')), loading());
    const { items } = await api.get('settlements');
    const period = ctx.query.period || (items[0] && items[0].period) || lastMonth();
    const picker = periodPicker(items, period, ctx);
    let st;
    try {
      st = await api.get(`settlements/${period}`);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
      mount(container, pageHeader(t('settlement.title')), picker,
        emptyState(t('settlement.missing', { period }), t('settlement.missing.hint')));
      return undefined;
    }
    return renderStatement(container, st, ctx, picker);
  },
});
