// One instrument (#/instruments/:id): every public field, booking rules, rates by
// payer tier and the contact. Other areas add sections (the bookings calendar)
// with registerInstrumentSection() without editing this file:
//
//   import { registerInstrumentSection } from './instrument.js';
//   registerInstrumentSection({ order: 10, render: (container, inst, ctx) => ... });
//
// A section renders into its own <section class="card" data-section="..."> placed
// after the header; it may be async and may return a cleanup function.
import { api } from '../api.js';
import { addMessages, formatDate, formatMoney, localName, t } from '../i18n.js';
import { href, registerPage } from '../router.js';
import { getUser } from '../session.js';
import { badge, card, detailList, el, link, loading, mount, pageHeader, table } from '../ui.js';
import { className, openHoursLines, priceText, statusBadge } from './catalogue_common.js';

addMessages({
  zh: {
    'instrument.title': '仪器详情',
    'instrument.back': '返回目录',
    'instrument.edit': '编辑',
    'instrument.basic': '基本信息',
    'instrument.asset_no': '资产编号', 'instrument.model': '规格型号', 'instrument.manufacturer': '生产制造商',
    'instrument.country': '产地国别', 'instrument.class': '仪器分类', 'instrument.owner': '所属单位',
    'instrument.department': '所属部门', 'instrument.place': '安放地址', 'instrument.purchase_date': '购置日期',
    'instrument.value': '原值', 'instrument.category': '仪器类型', 'instrument.share': '共享方式', 'instrument.zone': '片区',
    'instrument.tech_specs': '主要技术指标', 'instrument.functions': '主要功能', 'instrument.service_content': '服务内容',
    'instrument.sample_requirements': '样品要求', 'instrument.open_rules': '用户须知',
    'instrument.rules': '预约规则', 'instrument.openHours': '开放时间', 'instrument.noHours': '预约时间请与管理员联系',
    'instrument.slot': '预约时间单位', 'instrument.length': '单次预约时长', 'instrument.notice': '提前预约',
    'instrument.horizon': '最远可预约', 'instrument.cancel': '取消期限', 'instrument.approval': '需要审批',
    'instrument.training': '需要培训', 'instrument.modes': '服务方式', 'instrument.yes': '是', 'instrument.no': '否',
    'instrument.minutes': '{n} 分钟', 'instrument.range': '{min} – {max}', 'instrument.days': '{n} 天',
    'instrument.before': '开始前 {n}',
    'instrument.dur.minutes': '{n} 分钟', 'instrument.dur.hours': '{n} 小时', 'instrument.dur.day': '{n} 天', 'instrument.dur.days': '{n} 天',
    'instrument.rates': '收费标准', 'instrument.tier': '用户类别', 'instrument.rate': '收费',
    'instrument.minCharge': '开机费（每次）', 'instrument.step': '计费步长', 'instrument.basis': '计费依据',
    'instrument.ratesNote': '跨片区用户与片区内其他单位同价：共享清单不因跨区而加价。',
    'instrument.contact': '联系人', 'instrument.contactName': '姓名', 'instrument.phone': '电话', 'instrument.email': '电子邮箱',
  },
  en: {
    'instrument.title': 'Instrument',
    'instrument.back': 'Back to the catalogue',
    'instrument.edit': 'Edit',
    'instrument.basic': 'Details',
    'instrument.asset_no': 'Asset number', 'instrument.model': 'Model', 'instrument.manufacturer': 'Manufacturer',
    'instrument.country': 'Country of origin', 'instrument.class': 'Class', 'instrument.owner': 'Owner',
    'instrument.department': 'Department', 'instrument.place': 'Location', 'instrument.purchase_date': 'Purchased',
    'instrument.value': 'Original value', 'instrument.category': 'Category', 'instrument.share': 'Sharing', 'instrument.zone': 'Zone',
    'instrument.tech_specs': 'Technical specifications', 'instrument.functions': 'Functions', 'instrument.service_content': 'Services',
    'instrument.sample_requirements': 'Sample requirements', 'instrument.open_rules': 'User rules',
    'instrument.rules': 'Booking rules', 'instrument.openHours': 'Open hours', 'instrument.noHours': 'Ask the operator for times',
    'instrument.slot': 'Booking step', 'instrument.length': 'Booking length', 'instrument.notice': 'Notice',
    'instrument.horizon': 'Book up to', 'instrument.cancel': 'Cancel by', 'instrument.approval': 'Needs approval',
    'instrument.training': 'Needs training', 'instrument.modes': 'Service modes', 'instrument.yes': 'Yes', 'instrument.no': 'No',
    'instrument.minutes': '{n} min', 'instrument.range': '{min} – {max}', 'instrument.days': '{n} days ahead',
    'instrument.before': '{n} before the start',
    'instrument.dur.minutes': '{n} min', 'instrument.dur.hours': '{n} h', 'instrument.dur.day': '{n} day', 'instrument.dur.days': '{n} days',
    'instrument.rates': 'Rates', 'instrument.tier': 'Payer', 'instrument.rate': 'Rate',
    'instrument.minCharge': 'Minimum charge per use', 'instrument.step': 'Billing step', 'instrument.basis': 'Billed on',
    'instrument.ratesNote': 'Institutions of the other zone pay the same as those of this zone: the sharing list does not charge more for crossing zones.',
    'instrument.contact': 'Contact', 'instrument.contactName': 'Name', 'instrument.phone': 'Phone', 'instrument.email': 'E-mail',
  },
});

const sections = [];
/** Adds a section to every instrument page: {order, render(container, inst, ctx)}. */
export function registerInstrumentSection(section) {
  sections.push({ order: 100, ...section });
  sections.sort((a, b) => a.order - b.order);
}

function canEdit(inst) {
  const u = getUser();
  if (!u) return false;
  return u.roles.includes('admin') || (u.roles.includes('operator') && u.org_id === inst.owner_org_id);
}

const yesNo = (b) => t(b ? 'instrument.yes' : 'instrument.no');

/** Minutes as the roundest unit: 1440 -> "1 天", 120 -> "2 小时", 90 -> "90 分钟". */
export function duration(minutes) {
  const m = Number(minutes) || 0;
  if (m > 0 && m % 1440 === 0) return t(m === 1440 ? 'instrument.dur.day' : 'instrument.dur.days', { n: m / 1440 });
  if (m > 0 && m % 60 === 0) return t('instrument.dur.hours', { n: m / 60 });
  return t('instrument.dur.minutes', { n: m });
}

function text(title, value) {
  return value ? card(title, el('p', { class: 'prose' }, value)) : null;
}

registerPage({
  path: '/instruments/:id',
  titleKey: 'instrument.title',
  roles: null,
  nav: null,
  async render(container, params, ctx) {
    mount(container, loading());
    const inst = await api.get(`instruments/${encodeURIComponent(params.id)}`);
    document.title = `${localName(inst)} · ${document.title.split(' · ').pop()}`;
    const r = inst.rules;
    const p = inst.price;
    const tiers = [['internal', p.internal_fen], ['zone', p.zone_fen], ['cross_zone', p.cross_zone_fen]];
    const extra = el('div', { class: 'instrument-sections' });
    mount(container,
      el('p', null, link(href('/catalogue'), `← ${t('instrument.back')}`)),
      pageHeader(localName(inst), canEdit(inst) ? link(href(`/catalogue/edit/${inst.id}`), t('instrument.edit'), { class: 'btn btn-secondary' }) : null),
      el('p', { class: 'muted instrument-sub' }, localName({ name_zh: inst.name_en, name_en: inst.name_zh })),
      el('p', { class: 'instrument-badges' },
        badge(localName({ name_zh: inst.zone_name_zh, name_en: inst.zone_name_en }), 'info'), ' ', statusBadge(inst), ' ',
        badge(t(`cat.share.${inst.share_mode}`), inst.share_mode === 'external' ? 'success' : 'warning'), ' ',
        badge(t(inst.bookable ? 'cat.bookable' : 'cat.notBookable'), inst.bookable ? 'success' : 'neutral')),
      extra,
      el('div', { class: 'instrument-grid' },
        card(t('instrument.basic'), detailList([
          [t('instrument.owner'), localName({ name_zh: inst.owner_org_name_zh, name_en: inst.owner_org_name_en })],
          [t('instrument.zone'), localName({ name_zh: inst.zone_name_zh, name_en: inst.zone_name_en })],
          [t('instrument.department'), inst.department],
          [t('instrument.asset_no'), inst.asset_no],
          [t('instrument.model'), inst.model],
          [t('instrument.manufacturer'), inst.manufacturer],
          [t('instrument.country'), inst.country],
          [t('instrument.class'), `${inst.class_path.map((c) => localName(c)).join(' › ') || className(inst)}（${inst.class_code}）`],
          [t('instrument.category'), t(`cat.category.${inst.category_type}`)],
          [t('instrument.value'), formatMoney(inst.original_value_fen)],
          [t('instrument.purchase_date'), inst.purchase_date ? formatDate(`${inst.purchase_date}T12:00:00+08:00`) : ''],
          [t('instrument.place'), [inst.address, inst.room].filter(Boolean).join(' ')],
        ])),
        el('div', null,
          card(t('instrument.rates'),
            table({
              columns: [
                { key: 'tier', label: t('instrument.tier'), render: ([tier]) => t(`cat.tier.${tier}`) },
                { key: 'rate', label: t('instrument.rate'), align: 'right', render: ([, fen]) => priceText(inst, fen) },
              ],
              rows: tiers,
              class: 'rates-table',
            }),
            detailList([
              [t('instrument.minCharge'), formatMoney(p.min_charge_fen)],
              p.unit === 'hour' ? [t('instrument.step'), duration(p.step_minutes)] : null,
              p.unit === 'hour' ? [t('instrument.basis'), t(`cat.basis.${p.basis}`)] : null,
            ]),
            p.cross_zone_fen <= p.zone_fen ? el('p', { class: 'muted hint' }, t('instrument.ratesNote')) : null),
          card(t('instrument.contact'), detailList([
            [t('instrument.contactName'), inst.contact_name],
            [t('instrument.phone'), inst.contact_phone ? link(`tel:${inst.contact_phone.replace(/[^0-9+]/g, '')}`, inst.contact_phone) : ''],
            [t('instrument.email'), inst.contact_email ? link(`mailto:${inst.contact_email}`, inst.contact_email) : ''],
          ])))),
      card(t('instrument.rules'), detailList([
        [t('instrument.openHours'), r.open_hours.length ? el('span', null, openHoursLines(r.open_hours).map((l) => el('span', { class: 'line' }, l))) : t('instrument.noHours')],
        [t('instrument.slot'), duration(r.slot_minutes)],
        [t('instrument.length'), t('instrument.range', { min: duration(r.min_minutes), max: duration(r.max_minutes) })],
        [t('instrument.notice'), duration(r.notice_minutes)],
        [t('instrument.horizon'), t('instrument.days', { n: r.horizon_days })],
        [t('instrument.cancel'), t('instrument.before', { n: duration(r.cancel_deadline_minutes) })],
        [t('instrument.approval'), yesNo(r.requires_approval)],
        [t('instrument.training'), yesNo(r.requires_training)],
        [t('instrument.modes'), r.service_modes.map((m) => t(`cat.mode.${m}`)).join('、')],
      ])),
      text(t('instrument.functions'), inst.functions),
      text(t('instrument.tech_specs'), inst.tech_specs),
      text(t('instrument.service_content'), inst.service_content),
      text(t('instrument.sample_requirements'), inst.sample_requirements),
      text(t('instrument.open_rules'), inst.open_rules));
    const cleanups = [];
    for (const s of sections) {
      const box = el('section', { class: 'card', dataset: { section: s.id || String(s.order) } });
      extra.append(box);
      const c = await s.render(box, inst, ctx);
      if (typeof c === 'function') cleanups.push(c);
    }
    return () => cleanups.forEach((c) => c());
  },
});
