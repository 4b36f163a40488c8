// The statistics dashboard (issue 8), #/stats?period=last12|year|lastyear|month|custom&from=&to=&zone=&class=
//
// For the science commission and admins: headline figures (instruments, effective and external
// hours, utilisation, share rate, income, annualised hours per instrument against the national
// averages, no-show and cancellation rates), utilisation by zone and by class, the monthly trend
// with the national averages as reference lines (1,599 effective and 273 external hours per
// instrument per year, 2025), the cross-zone flow as a Sankey chart, the top and the idle
// instruments, share rates by institution, and CSV / annual-report downloads. Operators get the
// same page for their own institution (the API narrows every figure to it).
//
// Filters live in the URL. Charts are ECharts, imported on first use (its own chunk), drawn as
// SVG; when every chart has drawn, .stats-charts gets data-drawn="all" (tests and the render
// benchmark wait for it).
import { api, apiUrl } from '../api.js';
import {
  addMessages, formatHours, formatMoney, formatNumber, formatPercent, getLang, localName, localToApiTime, t, todayShanghai,
} from '../i18n.js';
import { href, registerPage } from '../router.js';
import { banner, card, el, emptyState, formRow, link, loading, mount, pageHeader, table } from '../ui.js';
import { statusBadge } from './catalogue_common.js';

addMessages({
  zh: {
    'stats.title': '统计分析',
    'stats.nav': '统计分析',
    'stats.scope.all': '全部片区 · 全部单位',
    'stats.scope.org': '本单位：{org}',
    'stats.scope.zone': '{zone} · 全部单位',
    'stats.scope.class': '仪器分类：{class}',
    'stats.period': '统计期间',
    'stats.period.last12': '近12个月',
    'stats.period.year': '本年度',
    'stats.period.lastyear': '上一年度',
    'stats.period.month': '本月',
    'stats.period.custom': '自定义',
    'stats.from': '开始日期',
    'stats.to': '结束日期（含）',
    'stats.zone': '片区',
    'stats.zone.all': '全部片区',
    'stats.class': '仪器类别',
    'stats.class.all': '全部类别',
    'stats.range': '{from} 至 {to}，共 {days} 天',
    'stats.badRange': '结束日期须不早于开始日期。',
    'stats.kpi.instruments': '仪器（台套）',
    'stats.kpi.used': '有效机时（小时）',
    'stats.kpi.external': '对外服务机时（小时）',
    'stats.kpi.cross': '跨片区服务机时（小时）',
    'stats.kpi.utilisation': '平均使用率',
    'stats.kpi.share': '共享率',
    'stats.kpi.fee': '服务收入',
    'stats.kpi.perInstrument': '台均年有效机时',
    'stats.kpi.perInstrumentExternal': '台均年对外服务机时',
    'stats.kpi.national': '全国平均 {hours} 小时（{year}）',
    'stats.kpi.noShow': '爽约率',
    'stats.kpi.cancel': '取消率',
    'stats.kpi.bookings': '{n} 个预约',
    'stats.chart.zone': '各片区使用率与共享率',
    'stats.chart.class': '各类仪器使用率',
    'stats.chart.trend': '月度趋势：台均机时',
    'stats.chart.trend.hint': '参考线为全国大型科研仪器平均水平（{year} 年：年有效机时 {effective} 小时、对外服务机时 {external} 小时，按月折算）。',
    'stats.chart.flows': '跨片区流动（机时）',
    'stats.chart.flows.hint': '左侧为使用方所在片区，右侧为提供仪器的单位所在片区。',
    'stats.chart.flows.user': '{zone}（使用方）',
    'stats.chart.flows.provider': '{zone}（提供方）',
    'stats.chart.none': '此期间没有数据。',
    'stats.series.utilisation': '使用率',
    'stats.series.share': '共享率',
    'stats.series.used': '台均有效机时',
    'stats.series.external': '台均对外服务机时',
    'stats.series.refUsed': '全国平均有效机时',
    'stats.series.refExternal': '全国平均对外服务机时',
    'stats.hoursUnit': '小时',
    'stats.top': '使用最多的仪器',
    'stats.idle': '闲置仪器（近90天使用率低于10%）',
    'stats.idle.count': '共 {n} 台',
    'stats.idle.none': '近90天没有闲置仪器。',
    'stats.orgs': '各单位共享情况',
    'stats.bookings': '预约履约情况',
    'stats.col.instrument': '仪器',
    'stats.col.org': '单位',
    'stats.col.zone': '片区',
    'stats.col.instruments': '仪器数',
    'stats.col.used': '有效机时',
    'stats.col.external': '对外服务机时',
    'stats.col.utilisation': '使用率',
    'stats.col.share': '共享率',
    'stats.col.fee': '收入',
    'stats.col.status': '运行状态',
    'stats.col.bookings': '预约数',
    'stats.col.noShow': '爽约率',
    'stats.col.cancel': '取消率',
    'stats.downloads': '数据下载',
    'stats.download.instruments': '仪器明细（CSV）',
    'stats.download.orgs': '各单位汇总（CSV）',
    'stats.download.months': '月度汇总（CSV）',
    'stats.download.flows': '片区流动（CSV）',
    'stats.download.bookings': '预约履约（CSV）',
    'stats.download.annual': '{year} 年度报表',
    'stats.download.annual.hint': '年度报表按国家平台仪器信息表的栏目顺序列出每台仪器的年有效工作机时与对外服务机时。',
  },
  en: {
    'stats.title': 'Statistics',
    'stats.nav': 'Statistics',
    'stats.scope.all': 'All zones · all institutions',
    'stats.scope.org': 'Your institution: {org}',
    'stats.scope.zone': '{zone} · all institutions',
    'stats.scope.class': 'Class: {class}',
    'stats.period': 'Period',
    'stats.period.last12': 'Last 12 months',
    'stats.period.year': 'This year',
    'stats.period.lastyear': 'Last year',
    'stats.period.month': 'This month',
    'stats.period.custom': 'Custom',
    'stats.from': 'From',
    'stats.to': 'To (inclusive)',
    'stats.zone': 'Zone',
    'stats.zone.all': 'All zones',
    'stats.class': 'Class',
    'stats.class.all': 'All classes',
    'stats.range': '{from} to {to}, {days} days',
    'stats.badRange': 'The end date must not be before the start date.',
    'stats.kpi.instruments': 'Instruments',
    'stats.kpi.used': 'Effective hours',
    'stats.kpi.external': 'External service hours',
    'stats.kpi.cross': 'Cross-zone hours',
    'stats.kpi.utilisation': 'Utilisation',
    'stats.kpi.share': 'Share rate',
    'stats.kpi.fee': 'Income',
    'stats.kpi.perInstrument': 'Effective hours per instrument-year',
    'stats.kpi.perInstrumentExternal': 'External hours per instrument-year',
    'stats.kpi.national': 'National average {hours} h ({year})',
    'stats.kpi.noShow': 'No-show rate',
    'stats.kpi.cancel': 'Cancellation rate',
    'stats.kpi.bookings': '{n} bookings',
    'stats.chart.zone': 'Utilisation and share rate by zone',
    'stats.chart.class': 'Utilisation by class',
    'stats.chart.trend': 'Monthly trend: hours per instrument',
    'stats.chart.trend.hint': 'Reference lines: national averages for large instruments ({year}: {effective} effective and {external} external hours a year, per month).',
    'stats.chart.flows': 'Cross-zone flows (hours)',
    'stats.chart.flows.hint': 'Left: the zone of the users\' institutions; right: the zone of the instrument\'s owner.',
    'stats.chart.flows.user': '{zone} (users)',
    'stats.chart.flows.provider': '{zone} (providers)',
    'stats.chart.none': 'No data in this period.',
    'stats.series.utilisation': 'Utilisation',
    'stats.series.share': 'Share rate',
    'stats.series.used': 'Effective hours per instrument',
    'stats.series.external': 'External hours per instrument',
    'stats.series.refUsed': 'National effective hours',
    'stats.series.refExternal': 'National external hours',
    'stats.hoursUnit': 'h',
    'stats.top': 'Most used instruments',
    'stats.idle': 'Idle instruments (under 10% in the last 90 days)',
    'stats.idle.count': '{n} in all',
    'stats.idle.none': 'No idle instruments in the last 90 days.',
    'stats.orgs': 'Sharing by institution',
    'stats.bookings': 'Bookings kept',
    'stats.col.instrument': 'Instrument',
    'stats.col.org': 'Institution',
    'stats.col.zone': 'Zone',
    'stats.col.instruments': 'Instruments',
    'stats.col.used': 'Effective h',
    'stats.col.external': 'External h',
    'stats.col.utilisation': 'Utilisation',
    'stats.col.share': 'Share rate',
    'stats.col.fee': 'Income',
    'stats.col.status': 'Run status',
    'stats.col.bookings': 'Bookings',
    'stats.col.noShow': 'No-shows',
    'stats.col.cancel': 'Cancelled',
    'stats.downloads': 'Downloads',
    'stats.download.instruments': 'Instruments (CSV)',
    'stats.download.orgs': 'By institution (CSV)',
    'stats.download.months': 'By month (CSV)',
    'stats.download.flows': 'Zone flows (CSV)',
    'stats.download.bookings': 'Bookings (CSV)',
    'stats.download.annual': 'Annual report {year}',
    'stats.download.annual.hint': 'The annual report lists every instrument with its effective and external service hours of the year, in the national platform\'s column order.',
  },
});

const PERIODS = ['last12', 'year', 'lastyear', 'month', 'custom'];
const DAY_MS = 86400000;

// ---- dates: local (Shanghai) calendar dates "YYYY-MM-DD" ----
const parseDate = (s) => (/^\d{4}-\d{2}-\d{2}$/.test(s || '') ? Date.parse(`${s}T00:00:00Z`) : NaN);
const fmtDate = (ms) => new Date(ms).toISOString().slice(0, 10);
const addDays = (s, n) => fmtDate(parseDate(s) + n * DAY_MS);
function monthFirst(s, add = 0) {
  const d = new Date(parseDate(s));
  return fmtDate(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1));
}

/** The period of the query: {key, from, to (exclusive), last (inclusive)} as local dates; null when invalid. */
function periodOf(query) {
  const today = todayShanghai();
  const tomorrow = addDays(today, 1);
  const key = PERIODS.includes(query.period) ? query.period : 'last12';
  const year = today.slice(0, 4);
  let from, to;
  if (key === 'year') [from, to] = [`${year}-01-01`, tomorrow];
  else if (key === 'lastyear') [from, to] = [`${Number(year) - 1}-01-01`, `${year}-01-01`];
  else if (key === 'month') [from, to] = [monthFirst(today), tomorrow];
  else if (key === 'custom') {
    from = Number.isNaN(parseDate(query.from)) ? monthFirst(today, -11) : query.from;
    const last = Number.isNaN(parseDate(query.to)) ? today : query.to;
    if (parseDate(last) < parseDate(from)) return null;
    to = addDays(last, 1);
  } else [from, to] = [monthFirst(today, -11), tomorrow];
  return { key, from, to, last: addDays(to, -1), days: Math.round((parseDate(to) - parseDate(from)) / DAY_MS) };
}

// ECharts renders tooltips as HTML: names from the API are escaped.
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const hours = (minutes) => Math.round(((minutes || 0) / 60) * 10) / 10;
const pct = (ratio) => Math.round((ratio || 0) * 1000) / 10;

function kpi(label, value, note) {
  return el('div', { class: 'stats-kpi' }, el('div', { class: 'muted stats-kpi-label' }, label),
    el('div', { class: 'num stats-kpi-value' }, value), note ? el('div', { class: 'muted stats-kpi-note' }, note) : null);
}

function kpis(d, period) {
  const tt = d.byZone.totals;
  const national = d.byZone.national.find((n) => n.year === 2025) || d.byZone.national[d.byZone.national.length - 1];
  const perYear = (minutes) => (tt.instruments ? (minutes / 60 / tt.instruments) * (365 / period.days) : 0);
  const b = d.bookings.totals;
  return el('div', { class: 'stats-kpis' },
    kpi(t('stats.kpi.instruments'), formatNumber(tt.instruments, 0)),
    kpi(t('stats.kpi.used'), formatHours(tt.used_minutes, 0)),
    kpi(t('stats.kpi.external'), formatHours(tt.external_minutes, 0)),
    kpi(t('stats.kpi.cross'), formatHours(tt.cross_zone_minutes, 0)),
    kpi(t('stats.kpi.utilisation'), formatPercent(tt.utilisation)),
    kpi(t('stats.kpi.share'), formatPercent(tt.share_rate)),
    kpi(t('stats.kpi.fee'), formatMoney(tt.fee_fen)),
    kpi(t('stats.kpi.perInstrument'), formatNumber(perYear(tt.used_minutes), 0),
      t('stats.kpi.national', { hours: formatNumber(national.effective_hours, 0), year: national.year })),
    kpi(t('stats.kpi.perInstrumentExternal'), formatNumber(perYear(tt.external_minutes), 0),
      t('stats.kpi.national', { hours: formatNumber(national.external_hours, 0), year: national.year })),
    kpi(t('stats.kpi.noShow'), formatPercent(b.no_show_rate), t('stats.kpi.bookings', { n: formatNumber(b.bookings, 0) })),
    kpi(t('stats.kpi.cancel'), formatPercent(b.cancellation_rate)));
}

function filters(ctx, period, zones, classes, operatorOnly) {
  const go = (patch) => ctx.navigate('/stats', { ...ctx.query, ...patch }, { replace: true });
  const periodRow = formRow({
    label: t('stats.period'), name: 'period', type: 'select', value: period.key,
    options: PERIODS.map((p) => ({ value: p, label: t(`stats.period.${p}`) })),
  });
  periodRow.control.addEventListener('change', () => {
    const key = periodRow.control.value;
    go(key === 'custom' ? { period: key, from: period.from, to: period.last } : { period: key, from: '', to: '' });
  });
  const rows = [periodRow];
  if (period.key === 'custom') {
    const fromRow = formRow({ label: t('stats.from'), name: 'from', type: 'date', value: period.from });
    const toRow = formRow({ label: t('stats.to'), name: 'to', type: 'date', value: period.last });
    fromRow.control.addEventListener('change', () => go({ from: fromRow.control.value }));
    toRow.control.addEventListener('change', () => go({ to: toRow.control.value }));
    rows.push(fromRow, toRow);
  }
  if (!operatorOnly) {
    const zoneRow = formRow({
      label: t('stats.zone'), name: 'zone', type: 'select', value: ctx.query.zone || '',
      options: [{ value: '', label: t('stats.zone.all') }, ...zones.map((z) => ({ value: z.code, label: localName(z) }))],
    });
    zoneRow.control.addEventListener('change', () => go({ zone: zoneRow.control.value }));
    rows.push(zoneRow);
  }
  const classRow = formRow({
    label: t('stats.class'), name: 'class', type: 'select', value: ctx.query.class || '',
    options: [{ value: '', label: t('stats.class.all') }, ...classes.map((c) => ({ value: c.code.slice(0, 2), label: localName(c) }))],
  });
  classRow.control.addEventListener('change', () => go({ class: classRow.control.value }));
  rows.push(classRow);
  return el('div', { class: 'toolbar stats-filters' }, rows);
}

function chartCard(title, id, hint, wide) {
  const box = el('div', { class: 'stats-chart', id, role: 'img', 'aria-label': title });
  const node = card(title, hint ? el('p', { class: 'muted stats-hint' }, hint) : null, box);
  if (wide) node.classList.add('stats-wide');
  return { box, node };
}

function wideCard(title, ...children) {
  const node = card(title, ...children);
  node.classList.add('stats-wide');
  return node;
}

function instrumentLink(item) {
  return link(href(`/instruments/${item.instrument_id}`), localName(item));
}

function topTable(d) {
  return table({
    class: 'stats-top',
    columns: [
      { key: 'name', label: t('stats.col.instrument'), render: instrumentLink },
      { key: 'org', label: t('stats.col.org'), render: (i) => localName(i, 'org_name') },
      { key: 'used', label: t('stats.col.used'), align: 'right', render: (i) => formatHours(i.used_minutes, 1) },
      { key: 'util', label: t('stats.col.utilisation'), align: 'right', render: (i) => formatPercent(i.utilisation) },
      { key: 'share', label: t('stats.col.share'), align: 'right', render: (i) => formatPercent(i.share_rate) },
    ],
    rows: d.top.items,
    empty: t('stats.chart.none'),
  });
}

function idleTable(d) {
  if (!d.idle.total) return emptyState(t('stats.idle.none'));
  return [
    el('p', { class: 'muted' }, t('stats.idle.count', { n: formatNumber(d.idle.total, 0) })),
    table({
      class: 'stats-idle',
      columns: [
        { key: 'name', label: t('stats.col.instrument'), render: instrumentLink },
        { key: 'org', label: t('stats.col.org'), render: (i) => localName(i, 'org_name') },
        { key: 'status', label: t('stats.col.status'), render: statusBadge },
        { key: 'util', label: t('stats.col.utilisation'), align: 'right', render: (i) => formatPercent(i.utilisation) },
      ],
      rows: d.idle.items,
    }),
  ];
}

function orgTable(d) {
  const rows = [...d.byOrg.items].sort((a, b) => b.used_minutes - a.used_minutes);
  return table({
    class: 'stats-orgs',
    columns: [
      { key: 'org', label: t('stats.col.org'), render: (g) => localName(g) },
      { key: 'n', label: t('stats.col.instruments'), align: 'right', render: (g) => formatNumber(g.instruments, 0) },
      { key: 'used', label: t('stats.col.used'), align: 'right', render: (g) => formatHours(g.used_minutes, 0) },
      { key: 'ext', label: t('stats.col.external'), align: 'right', render: (g) => formatHours(g.external_minutes, 0) },
      { key: 'share', label: t('stats.col.share'), align: 'right', render: (g) => formatPercent(g.share_rate) },
      { key: 'util', label: t('stats.col.utilisation'), align: 'right', render: (g) => formatPercent(g.utilisation) },
      { key: 'fee', label: t('stats.col.fee'), align: 'right', render: (g) => formatMoney(g.fee_fen) },
    ],
    rows,
    empty: t('stats.chart.none'),
  });
}

function bookingsTable(d) {
  return table({
    class: 'stats-bookings',
    columns: [
      { key: 'zone', label: t('stats.col.zone'), render: (g) => localName(g) },
      { key: 'n', label: t('stats.col.bookings'), align: 'right', render: (g) => formatNumber(g.bookings, 0) },
      { key: 'ns', label: t('stats.col.noShow'), align: 'right', render: (g) => formatPercent(g.no_show_rate) },
      { key: 'c', label: t('stats.col.cancel'), align: 'right', render: (g) => formatPercent(g.cancellation_rate) },
    ],
    rows: d.bookings.items,
    empty: t('stats.chart.none'),
  });
}

function downloads(query) {
  const csv = (path, extra) => apiUrl(`stats/${path}`, { ...query, ...extra, format: 'csv' });
  const year = Number(todayShanghai().slice(0, 4));
  const annual = (y) => el('li', null, t('stats.download.annual', { year: y }), ' ',
    link(apiUrl('stats/annual-report', { year: y, zone: query.zone, class: query.class }), 'CSV', { download: '' }), ' · ',
    link(apiUrl('stats/annual-report', { year: y, zone: query.zone, class: query.class, format: 'xlsx' }), 'XLSX', { download: '' }));
  return card(t('stats.downloads'),
    el('ul', { class: 'stats-downloads' },
      el('li', null, link(csv('instruments', {}), t('stats.download.instruments'), { download: '' })),
      el('li', null, link(csv('summary', { group_by: 'org' }), t('stats.download.orgs'), { download: '' })),
      el('li', null, link(csv('summary', { group_by: 'month' }), t('stats.download.months'), { download: '' })),
      el('li', null, link(csv('flows', {}), t('stats.download.flows'), { download: '' })),
      el('li', null, link(csv('bookings', { group_by: 'zone' }), t('stats.download.bookings'), { download: '' })),
      annual(year - 1), annual(year)),
    el('p', { class: 'muted stats-hint' }, t('stats.download.annual.hint')));
}

// ---- charts ----

function zoneOption(d) {
  const items = d.byZone.items;
  return {
    tooltip: { trigger: 'axis', valueFormatter: (v) => `${v}%` },
    legend: { top: 0 },
    grid: { left: 50, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: items.map((g) => localName(g)), axisLabel: { interval: 0 } },
    yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
    series: [
      { name: t('stats.series.utilisation'), type: 'bar', data: items.map((g) => pct(g.utilisation)) },
      { name: t('stats.series.share'), type: 'bar', data: items.map((g) => pct(g.share_rate)) },
    ],
  };
}

function classOption(d) {
  const items = [...d.byClass.items].sort((a, b) => a.utilisation - b.utilisation);
  return {
    tooltip: {
      trigger: 'item',
      formatter: (p) => {
        const g = items[p.dataIndex];
        return `${esc(localName(g))}<br>${t('stats.series.utilisation')} ${p.value}%<br>${formatHours(g.used_minutes, 0)} ${t('stats.hoursUnit')}`;
      },
    },
    grid: { left: 150, right: 30, top: 10, bottom: 30 },
    xAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
    yAxis: { type: 'category', data: items.map((g) => localName(g)), axisLabel: { width: 140, overflow: 'truncate' } },
    series: [{ name: t('stats.series.utilisation'), type: 'bar', data: items.map((g) => pct(g.utilisation)) }],
  };
}

function trendOption(d, narrow) {
  const items = d.byMonth.items;
  const national = d.byMonth.national.find((n) => n.year === 2025) || d.byMonth.national[d.byMonth.national.length - 1];
  const per = (g, key) => (g.instruments ? Math.round((g[key] / 60 / g.instruments) * 10) / 10 : 0);
  const refUsed = Math.round((national.effective_hours / 12) * 10) / 10;
  const refExternal = Math.round((national.external_hours / 12) * 10) / 10;
  const refLine = (value, name) => ({
    silent: true, symbol: 'none', lineStyle: { type: 'dashed' },
    // Inside the plot, above the line's right end: outside it, the English labels were cut off.
    label: { formatter: `${name} ${value}`, position: 'insideEndTop' },
    data: [{ yAxis: value }],
  });
  return {
    tooltip: { trigger: 'axis', valueFormatter: (v) => `${v} ${t('stats.hoursUnit')}` },
    legend: { top: 0 },
    grid: { left: 50, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: items.map((g) => g.key) },
    // The axis reaches the national average even when the figures stay below it.
    yAxis: { type: 'value', name: t('stats.hoursUnit'), max: (v) => Math.ceil(Math.max(v.max, refUsed) * 1.15) },
    series: [
      { name: t('stats.series.used'), type: 'bar', data: items.map((g) => per(g, 'used_minutes')),
        markLine: refLine(refUsed, t('stats.series.refUsed')) },
      { name: t('stats.series.external'), type: 'bar', data: items.map((g) => per(g, 'external_minutes')),
        markLine: refLine(refExternal, t('stats.series.refExternal')) },
    ],
  };
}

function flowOption(d, narrow) {
  const names = new Map(d.flows.zones.map((z) => [z.code, narrow ? z.code : localName(z)]));
  const user = (z) => t('stats.chart.flows.user', { zone: names.get(z) || z });
  const provider = (z) => t('stats.chart.flows.provider', { zone: names.get(z) || z });
  const links = d.flows.items.filter((f) => f.minutes > 0);
  return {
    tooltip: {
      trigger: 'item',
      formatter: (p) => (p.dataType === 'edge' ? `${esc(p.data.source)} → ${esc(p.data.target)}<br>${p.data.value} ${t('stats.hoursUnit')}` : esc(p.name)),
    },
    series: [{
      type: 'sankey',
      left: 10, right: narrow ? 110 : 260, top: 10, bottom: 10,
      nodeAlign: 'justify',
      data: [...new Set(links.map((f) => f.from_zone))].map((z) => ({ name: user(z) }))
        .concat([...new Set(links.map((f) => f.to_zone))].map((z) => ({ name: provider(z) }))),
      links: links.map((f) => ({ source: user(f.from_zone), target: provider(f.to_zone), value: hours(f.minutes) })),
      lineStyle: { color: 'gradient', opacity: 0.45 },
      emphasis: { focus: 'adjacency' },
    }],
  };
}

/** Draws one chart and resolves when ECharts has finished rendering it (or at once when empty). */
function draw(echarts, box, option, charts) {
  const hasData = option.series.some((s) => (s.data && s.data.length) || (s.links && s.links.length));
  if (!hasData) {
    mount(box, el('p', { class: 'muted stats-empty' }, t('stats.chart.none')));
    box.classList.add('stats-chart-empty');
    return Promise.resolve();
  }
  const chart = echarts.init(box, null, { renderer: 'svg', locale: getLang() === 'zh' ? 'ZH' : 'EN' });
  charts.push(chart);
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 3000);
    chart.on('finished', () => { clearTimeout(timer); resolve(); });
    chart.setOption({ animation: false, ...option });
  });
}

async function fetchAll(query) {
  const get = (path, q) => api.get(`stats/${path}`, { query: { ...query, ...q } });
  const [byZone, byClass, byMonth, byOrg, flows, top, idle, bookings] = await Promise.all([
    get('summary', { group_by: 'zone' }),
    get('summary', { group_by: 'class', class_level: 1 }),
    get('summary', { group_by: 'month' }),
    get('summary', { group_by: 'org' }),
    get('flows', {}),
    get('top', { by: 'used', limit: 10 }),
    api.get('stats/idle', { query: { zone: query.zone, class: query.class, limit: 10 } }),
    get('bookings', { group_by: 'zone' }),
  ]);
  return { byZone, byClass, byMonth, byOrg, flows, top, idle, bookings };
}

registerPage({
  path: '/stats',
  titleKey: 'stats.title',
  roles: ['commission', 'admin', 'operator'],
  nav: { group: 'stats', order: 10, labelKey: 'stats.nav' },
  async render(container, params, ctx) {
    const roles = ctx.user?.roles || [];
    const operatorOnly = !roles.includes('commission') && !roles.includes('admin');
    const period = periodOf(ctx.query);
    const header = pageHeader(t('stats.title'));
    mount(container, header, loading());
    const [zones, classes] = await Promise.all([
      api.get('zones').then((r) => r.items),
      api.get('classes').then((r) => r.items.filter((c) => c.level === 1)),
    ]);
    if (!period) {
      mount(container, header, filters(ctx, periodOf({}), zones, classes, operatorOnly), banner(t('stats.badRange'), 'warning'));
      return undefined;
    }
    const query = {
      from: localToApiTime(period.from, '00:00'), to: localToApiTime(period.to, '00:00'),
      zone: operatorOnly ? '' : ctx.query.zone || '', class: ctx.query.class || '',
    };
    const echartsLoad = import('echarts'); // in parallel with the figures
    const d = await fetchAll(query);
    // The subtitle names what the figures cover: the zone (or all), the institution (or all) and the class.
    const zone = !operatorOnly && query.zone ? zones.find((z) => z.code === query.zone) : null;
    const cls = query.class ? classes.find((c) => c.code.slice(0, 2) === query.class.slice(0, 2)) : null;
    const scope = [
      operatorOnly ? t('stats.scope.org', { org: d.byOrg.items[0] ? localName(d.byOrg.items[0]) : '' })
        : zone ? t('stats.scope.zone', { zone: localName(zone) }) : t('stats.scope.all'),
      cls ? t('stats.scope.class', { class: localName(cls) }) : null,
    ].filter(Boolean).join(' · ');
    const charts = {
      zone: chartCard(t('stats.chart.zone'), 'stats-zone'),
      class: chartCard(t('stats.chart.class'), 'stats-class'),
      trend: chartCard(t('stats.chart.trend'), 'stats-trend', (() => {
        const n = d.byMonth.national.find((x) => x.year === 2025) || d.byMonth.national[0];
        return t('stats.chart.trend.hint', { year: n.year, effective: formatNumber(n.effective_hours, 0), external: formatNumber(n.external_hours, 0) });
      })(), true),
      flows: chartCard(t('stats.chart.flows'), 'stats-flows', t('stats.chart.flows.hint'), true),
    };
    const grid = el('div', { class: 'stats-charts' }, charts.zone.node, charts.class.node, charts.trend.node, charts.flows.node);
    mount(container,
      header,
      el('p', { class: 'muted stats-scope' }, scope, ' · ', t('stats.range', { from: period.from, to: period.last, days: period.days })),
      filters(ctx, period, zones, classes, operatorOnly),
      kpis(d, period),
      grid,
      el('div', { class: 'stats-tables' },
        card(t('stats.top'), topTable(d)),
        card(t('stats.idle'), idleTable(d)),
        card(t('stats.bookings'), bookingsTable(d)),
        wideCard(t('stats.orgs'), orgTable(d))),
      downloads(query));

    const echarts = await echartsLoad;
    const drawn = [];
    if (!container.isConnected) return undefined;
    const narrow = charts.flows.box.clientWidth < 560;
    await Promise.all([
      draw(echarts, charts.zone.box, zoneOption(d), drawn),
      draw(echarts, charts.class.box, classOption(d), drawn),
      draw(echarts, charts.trend.box, trendOption(d, narrow), drawn),
      draw(echarts, charts.flows.box, flowOption(d, narrow), drawn),
    ]);
    grid.dataset.drawn = 'all';
    const onResize = () => drawn.forEach((c) => c.resize());
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      drawn.forEach((c) => c.dispose());
    };
  },
});
