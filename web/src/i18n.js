// i18n: Chinese first (zh, the default), English as the alternative.
//
// Every module registers its own strings with addMessages({zh: {...}, en: {...}}),
// keyed by a dotted name that starts with the module's own prefix
// ("signin.title", "catalogue.filters.zone"), so no page edits a shared file.
// t(key, params) looks the key up in the current language, falls back to Chinese
// and then to the key itself, and fills {name} placeholders from params.
// The choice is remembered in localStorage ('yiqi.lang') and sets <html lang>.
//
// Formatting: money is integer fen -> "¥1,234.50"; instants are shown in
// Asia/Shanghai whatever the browser's own time zone is.

const STORAGE_KEY = 'yiqi.lang';
export const LANGS = ['zh', 'en'];
export const TIME_ZONE = 'Asia/Shanghai';

const catalog = { zh: Object.create(null), en: Object.create(null) };
const listeners = new Set();
let lang = readStoredLang();

function readStoredLang() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(v)) return v;
  } catch { /* storage disabled: default */ }
  return 'zh';
}

/** Registers messages: addMessages({zh: {key: 'text'}, en: {key: 'text'}}). Later keys win. */
export function addMessages(messages) {
  for (const l of LANGS) Object.assign(catalog[l], (messages && messages[l]) || {});
}

/** True when key has a message in the current language (or Chinese). */
export function hasMessage(key) {
  return key in catalog[lang] || key in catalog.zh;
}

/**
 * Translates key into the current language. params fills "{name}" placeholders;
 * a numeric placeholder value is shown as is (format it first if needed).
 */
export function t(key, params) {
  let s = catalog[lang][key];
  if (s === undefined) s = catalog.zh[key];
  if (s === undefined) {
    if (import.meta.env && import.meta.env.DEV) console.warn('i18n: missing message', key);
    return key;
  }
  if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined || params[name] === null ? m : String(params[name])));
  return s;
}

/** The current language: 'zh' or 'en'. */
export function getLang() { return lang; }

/** The BCP 47 tag of the current language ('zh-CN' or 'en'). */
export function langTag(l = lang) { return l === 'zh' ? 'zh-CN' : 'en'; }

/** Switches language, remembers it and notifies onLangChange listeners. */
export function setLang(next) {
  if (!LANGS.includes(next) || next === lang) return;
  lang = next;
  try { localStorage.setItem(STORAGE_KEY, next); } catch { /* ignore */ }
  applyDocumentLang();
  for (const fn of listeners) fn(lang);
}

/** Calls fn(lang) after every language change; returns an unsubscribe function. */
export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Sets <html lang> to the current language. */
export function applyDocumentLang() {
  if (typeof document !== 'undefined') document.documentElement.lang = langTag();
}

/** Picks the localized field of an API object: localName(org) -> org.name_zh or org.name_en (falling back to the other). */
export function localName(obj, base = 'name') {
  if (!obj) return '';
  const first = obj[`${base}_${lang}`];
  const other = obj[`${base}_${lang === 'zh' ? 'en' : 'zh'}`];
  return first || other || obj[base] || '';
}

// ---- numbers and money -------------------------------------------------------

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Formats a number with grouping, e.g. 12345.6 -> "12,345.6" (digits: fraction digits, default up to 2). */
export function formatNumber(n, digits) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '';
  const opts = digits === undefined ? { maximumFractionDigits: 2 } : { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return new Intl.NumberFormat(langTag(), opts).format(Number(n));
}

/** Integer fen -> "¥1,234.50" (negative: "-¥1,234.50"). Exact: no floating point. */
export function formatMoney(fen) {
  if (fen === null || fen === undefined || fen === '') return '';
  const v = Math.trunc(Number(fen));
  if (!Number.isFinite(v)) return '';
  const abs = Math.abs(v);
  const yuan = Math.floor(abs / 100);
  const cents = String(abs % 100).padStart(2, '0');
  return `${v < 0 ? '-' : ''}¥${intFormat.format(yuan)}.${cents}`;
}

/** Integer fen -> "1234.50" (no symbol, no grouping), for form inputs. */
export function fenToYuanString(fen) {
  const v = Math.trunc(Number(fen) || 0);
  const abs = Math.abs(v);
  return `${v < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** "1,234.5" / "¥12" / "-3.05" -> integer fen; null when not a valid amount (at most 2 decimals). */
export function parseYuanToFen(text) {
  const s = String(text ?? '').trim().replace(/[¥,，\s]/g, '');
  const m = /^(-?)(\d+)(?:\.(\d{0,2}))?$/.exec(s);
  if (!m) return null;
  const fen = Number(m[2]) * 100 + Number((m[3] || '').padEnd(2, '0'));
  return m[1] ? -fen : fen;
}

/** Ratio 0..1 -> "12.3%". */
export function formatPercent(ratio, digits = 1) {
  if (ratio === null || ratio === undefined || Number.isNaN(Number(ratio))) return '';
  return new Intl.NumberFormat(langTag(), { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Number(ratio));
}

/** Minutes -> hours with one decimal, e.g. 90 -> "1.5". */
export function formatHours(minutes, digits = 1) {
  return formatNumber((Number(minutes) || 0) / 60, digits);
}

// ---- dates and times (always Asia/Shanghai) ------------------------------------

const partsFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: TIME_ZONE, hourCycle: 'h23',
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short',
});

function toDate(value) {
  if (value === null || value === undefined || value === '') return null;
  const d = value instanceof Date ? value : new Date(typeof value === 'number' && value < 1e11 ? value * 1000 : value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * The Shanghai wall-clock fields of an instant: {year, month, day, hour, minute, second, weekday (1 = Monday .. 7 = Sunday)}.
 * value: a Date, an RFC 3339 string, or epoch seconds/milliseconds.
 */
export function shanghaiParts(value) {
  const d = toDate(value);
  if (!d) return null;
  const p = {};
  for (const { type, value: v } of partsFormat.formatToParts(d)) p[type] = v;
  const weekdays = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
  return { year: +p.year, month: +p.month, day: +p.day, hour: +p.hour, minute: +p.minute, second: +p.second, weekday: weekdays[p.weekday] };
}

const pad = (n) => String(n).padStart(2, '0');

/** "2026-12-01" (Shanghai date). */
export function formatDate(value) {
  const p = shanghaiParts(value);
  return p ? `${p.year}-${pad(p.month)}-${pad(p.day)}` : '';
}

/** "09:30" (Shanghai time). */
export function formatTime(value) {
  const p = shanghaiParts(value);
  return p ? `${pad(p.hour)}:${pad(p.minute)}` : '';
}

/** "2026-12-01 09:30" (Shanghai). */
export function formatDateTime(value) {
  const p = shanghaiParts(value);
  return p ? `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}` : '';
}

/** A range "2026-12-01 09:00–11:00" (or with both dates when they differ). */
export function formatRange(start, end) {
  const a = formatDateTime(start);
  if (!end) return a;
  return formatDate(start) === formatDate(end) ? `${a}–${formatTime(end)}` : `${a} – ${formatDateTime(end)}`;
}

/** Long, localized date: "2026年12月1日 星期二" / "Tue, Dec 1, 2026". */
export function formatLongDate(value) {
  const d = toDate(value);
  if (!d) return '';
  return new Intl.DateTimeFormat(langTag(), { timeZone: TIME_ZONE, dateStyle: 'full' }).format(d);
}

/** An instant -> RFC 3339 in +08:00, as the API wants: "2026-12-01T09:00:00+08:00". */
export function toApiTime(value) {
  const p = shanghaiParts(value);
  return p ? `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}+08:00` : '';
}

/**
 * A Shanghai wall-clock value from <input type="datetime-local"> ("2026-12-01T09:00")
 * or a date plus "HH:MM" -> RFC 3339 "+08:00". Returns '' when malformed.
 */
export function localToApiTime(dateOrDateTime, time) {
  const s = time ? `${dateOrDateTime}T${time}` : String(dateOrDateTime || '');
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/.exec(s);
  return m ? `${m[1]}T${m[2]}${m[3] || ':00'}+08:00` : '';
}

/** An instant -> the value for <input type="datetime-local"> in Shanghai time ("2026-12-01T09:00"). */
export function toLocalInput(value) {
  const p = shanghaiParts(value);
  return p ? `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}` : '';
}

/** Today's Shanghai date "YYYY-MM-DD"; the current month "YYYY-MM" with monthOf(). */
export function todayShanghai() { return formatDate(new Date()); }
export function monthOf(value = new Date()) { return formatDate(value).slice(0, 7); }

applyDocumentLang();
