// Shared by the catalogue pages: localized names of the instrument enumerations,
// price and open-hours text, and the class table (loaded once per visit).
import { api } from '../api.js';
import { addMessages, formatMoney, localName, t } from '../i18n.js';
import { badge } from '../ui.js';

addMessages({
  zh: {
    'cat.status.normal': '正常', 'cat.status.standby': '待机', 'cat.status.occasional_fault': '偶有故障',
    'cat.status.frequent_fault': '经常故障', 'cat.status.awaiting_repair': '待修', 'cat.status.awaiting_disposal': '待报废',
    'cat.share.external': '对外共享', 'cat.share.internal': '仅本单位', 'cat.share.none': '不共享',
    'cat.category.general': '通用', 'cat.category.specialised': '专用',
    'cat.unit.hour': '小时', 'cat.unit.sample': '样',
    'cat.basis.used': '按实际使用', 'cat.basis.booked': '按预约时长', 'cat.basis.greater': '取两者较大',
    'cat.mode.self_operated': '自主上机', 'cat.mode.assisted': '技术共享', 'cat.mode.sample': '委托送样', 'cat.mode.remote': '远程',
    'cat.tier.internal': '本单位', 'cat.tier.zone': '片区内其他单位', 'cat.tier.cross_zone': '跨片区单位',
    'cat.retired': '已退役', 'cat.bookable': '可预约', 'cat.notBookable': '暂不可预约',
    'cat.perUnit': '{price}/{unit}',
    'cat.weekday.1': '周一', 'cat.weekday.2': '周二', 'cat.weekday.3': '周三', 'cat.weekday.4': '周四',
    'cat.weekday.5': '周五', 'cat.weekday.6': '周六', 'cat.weekday.7': '周日',
    'cat.closed': '不开放',
  },
  en: {
    'cat.status.normal': 'Normal', 'cat.status.standby': 'Standby', 'cat.status.occasional_fault': 'Occasional faults',
    'cat.status.frequent_fault': 'Frequent faults', 'cat.status.awaiting_repair': 'Awaiting repair', 'cat.status.awaiting_disposal': 'Awaiting disposal',
    'cat.share.external': 'Shared with all', 'cat.share.internal': 'Own institution only', 'cat.share.none': 'Not shared',
    'cat.category.general': 'General', 'cat.category.specialised': 'Specialised',
    'cat.unit.hour': 'hour', 'cat.unit.sample': 'sample',
    'cat.basis.used': 'Time used', 'cat.basis.booked': 'Time booked', 'cat.basis.greater': 'The greater of the two',
    'cat.mode.self_operated': 'Self-operated', 'cat.mode.assisted': 'Assisted', 'cat.mode.sample': 'Samples sent in', 'cat.mode.remote': 'Remote',
    'cat.tier.internal': 'Own institution', 'cat.tier.zone': 'Same zone', 'cat.tier.cross_zone': 'Other zone',
    'cat.retired': 'Retired', 'cat.bookable': 'Bookable', 'cat.notBookable': 'Not bookable now',
    'cat.perUnit': '{price}/{unit}',
    'cat.weekday.1': 'Mon', 'cat.weekday.2': 'Tue', 'cat.weekday.3': 'Wed', 'cat.weekday.4': 'Thu',
    'cat.weekday.5': 'Fri', 'cat.weekday.6': 'Sat', 'cat.weekday.7': 'Sun',
    'cat.closed': 'Closed',
  },
});

export const RUN_STATUSES = ['normal', 'standby', 'occasional_fault', 'frequent_fault', 'awaiting_repair', 'awaiting_disposal'];
export const SHARE_MODES = ['external', 'internal', 'none'];
export const SERVICE_MODES = ['self_operated', 'assisted', 'sample', 'remote'];

/** A badge for the run status (green when usable). */
export function statusBadge(inst) {
  if (inst.retired) return badge(t('cat.retired'), 'neutral');
  const kind = ['normal', 'standby'].includes(inst.run_status) ? 'success'
    : inst.run_status === 'occasional_fault' ? 'warning' : 'danger';
  return badge(t(`cat.status.${inst.run_status}`), kind);
}

/** "¥200.00/小时" for one tier (fen). */
export function priceText(inst, fen) {
  return t('cat.perUnit', { price: formatMoney(fen), unit: t(`cat.unit.${inst.price.unit}`) });
}

/** Open hours as lines "周一至周五 09:00–18:00". Consecutive days with the same spans merge. */
export function openHoursLines(openHours) {
  const byDay = new Map();
  for (const s of openHours) {
    const list = byDay.get(s.weekday) || [];
    list.push(`${s.from}–${s.to}`);
    byDay.set(s.weekday, list);
  }
  const lines = [];
  for (let d = 1; d <= 7; d++) {
    if (!byDay.has(d)) continue;
    const spans = byDay.get(d).join('，');
    let e = d;
    while (e < 7 && byDay.has(e + 1) && byDay.get(e + 1).join('，') === spans) e++;
    const days = e > d ? `${t(`cat.weekday.${d}`)}–${t(`cat.weekday.${e}`)}` : t(`cat.weekday.${d}`);
    lines.push(`${days} ${spans}`);
    d = e;
  }
  return lines;
}

/** Open hours as the compact text of the CSV and the editor: "1-5 09:00-18:00; 6 09:00-12:00". */
export function openHoursToText(openHours) {
  const byDay = new Map();
  for (const s of openHours) byDay.set(s.weekday, [...(byDay.get(s.weekday) || []), `${s.from}-${s.to}`]);
  const parts = [];
  for (let d = 1; d <= 7; d++) {
    if (!byDay.has(d)) continue;
    const spans = byDay.get(d).join(',');
    let e = d;
    while (e < 7 && byDay.has(e + 1) && byDay.get(e + 1).join(',') === spans) e++;
    parts.push(`${e > d ? `${d}-${e}` : d} ${spans}`);
    d = e;
  }
  return parts.join('; ');
}

/** Parses the compact text back; returns the list or null when it does not read. */
export function openHoursFromText(text) {
  const out = [];
  for (const group of text.split(';').map((g) => g.trim()).filter(Boolean)) {
    const m = group.match(/^([1-7])(?:-([1-7]))?\s+(.+)$/);
    if (!m) return null;
    const d1 = Number(m[1]), d2 = Number(m[2] || m[1]);
    if (d2 < d1) return null;
    const spans = m[3].split(',').map((s) => s.trim());
    for (let d = d1; d <= d2; d++) {
      for (const s of spans) {
        const sm = s.match(/^(\d\d:\d\d)-(\d\d:\d\d)$/);
        if (!sm) return null;
        out.push({ weekday: d, from: sm[1], to: sm[2] });
      }
    }
  }
  return out;
}

let classesPromise = null;
/** The classification: {items, byCode, tops}. Cached for the visit. */
export function loadClasses() {
  if (!classesPromise) {
    classesPromise = api.get('classes').then(({ items }) => ({
      items,
      byCode: new Map(items.map((c) => [c.code, c])),
      tops: items.filter((c) => c.level === 1),
    })).catch((err) => { classesPromise = null; throw err; });
  }
  return classesPromise;
}

/** The localized class name of an instrument ("扫描电镜" / "SEM"), with its top level. */
export function className(inst) {
  const own = localName({ name_zh: inst.class_name_zh, name_en: inst.class_name_en });
  return own || inst.class_code;
}
