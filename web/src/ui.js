// Small DOM helpers and components shared by every page. No framework: el() builds
// elements, components return elements, pages append them. Everything that shows
// user-visible text takes already-translated strings (call t() first); toast() also takes
// a function giving the text, so an open toast follows a language switch like the page does.
//
// Accessibility: formRow() ties each <label> to its control (tests find fields by
// label), error banners use role="alert", toasts live in an aria-live region,
// tables get a <caption> when given one.

import { ApiError } from './api.js';
import { addMessages, getLang, hasMessage, onLangChange, t } from './i18n.js';

addMessages({
  zh: {
    'ui.close': '关闭',
    'ui.cancel': '取消',
    'ui.confirm': '确定',
    'ui.loading': '加载中…',
    'ui.empty': '暂无数据',
    'ui.more': '加载更多',
    'ui.reason': '原因',
    'ui.required': '必填',
    'ui.error.title': '操作未成功',
    'ui.error.network': '无法连接服务器，请检查网络后重试。',
    'ui.error.http_400': '输入有误，请检查后重试。',
    'ui.error.http_401': '请先登录。',
    'ui.error.http_403': '您没有执行此操作的权限。',
    'ui.error.http_404': '未找到该内容，或您无权查看。',
    'ui.error.http_409': '与当前状态冲突，请刷新后重试。',
    'ui.error.http_413': '提交的内容过大。',
    'ui.error.http_429': '请求过于频繁，请稍后再试。',
    'ui.error.http_500': '服务器出错，请稍后再试。',
    'ui.error.field': '字段：{field}',
    'ui.page': '第 {from}–{to} 条，共 {total} 条',
    'ui.page.prev': '上一页',
    'ui.page.next': '下一页',
    'ui.page.of': '第 {page} / {pages} 页',
    // Server validation messages (English) in the reader's language; {field} is a field label.
    'srv.required': '请填写“{field}”。',
    'srv.string': '“{field}”须为文本。',
    'srv.maxChars': '“{field}”最多 {n} 个字符。',
    'srv.notEmpty': '“{field}”不能为空。',
    'srv.intRange': '“{field}”须为 {min} 至 {max} 之间的整数。',
    'srv.wholeNumber': '“{field}”须为不小于 0 的整数。',
    'srv.bool': '“{field}”须为“是”或“否”。',
    'srv.instant': '“{field}”须为带时区的时间，如 2026-12-01T09:00:00+08:00。',
    'srv.oneOf': '“{field}”须为以下之一：{list}。',
    'srv.control': '“{field}”不能含有控制字符。',
    'srv.date': '“{field}”须为日期，格式 YYYY-MM-DD。',
    'srv.country': '“{field}”须为 ISO 3166 两位国家代码，如 CN、DE、US。',
    'srv.classCode': '“{field}”须为国家分类标准的六位代码。',
    'srv.classUnknown': '分类 {code} 不在国家分类标准中。',
    'srv.phone': '“{field}”只能包含数字、空格和 + - ( )。',
    'srv.email': '“{field}”须为电子邮箱地址。',
    'srv.slot': '“{field}”须能整除一天（5、10、15、20、30、60 …）。',
    'srv.minMinutes': '“{field}”须为预约时间单位的整数倍，且不超过一周。',
    'srv.maxMinutes': '“{field}”须为预约时间单位的整数倍，不小于最短预约，且不超过一周。',
    'srv.modes': '“{field}”须列出一种或多种：self_operated（自主上机）、assisted（技术共享）、sample（委托送样）、remote（远程）。',
    'srv.spans': '“{field}”的时段过多（最多 {n} 段）。',
    'srv.weekday': '星期须为 1（周一）到 7（周日）。',
    'srv.span': '每个时段须从 00:00–23:59 开始，到更晚的时间结束（最晚 24:00）。',
    'srv.overlap': '星期 {day} 的时段有重叠。',
    'srv.endAfterStart': '结束时间须晚于开始时间。',
    'srv.endAfterStart366': '结束时间须晚于开始时间，且最多晚 366 天。',
    'srv.toAfterFrom': '结束时间须晚于开始时间。',
    'srv.noUser': '找不到该用户。',
    'srv.noOrgId': '没有这个编号的单位。',
    'srv.wholeFen': '“{value}”不是整数（金额以分为单位，如 120 元填 12000）。',
    'srv.yesNo': '请填写“是”或“否”（true / false）。',
    'srv.modesCsv': '服务方式请用逗号分隔：self_operated、assisted、sample、remote。',
    'srv.noOrgCode': '没有使用该代码的单位。',
    'srv.nameOrg': '请填写所属单位代码。',
    'srv.ownOrgOnly': '只能导入本单位的仪器。',
    'srv.assetTwice': '该资产编号在文件中出现了两次。',
    'srv.other': '“{field}”：{message}',
  },
  en: {
    'ui.close': 'Close',
    'ui.cancel': 'Cancel',
    'ui.confirm': 'OK',
    'ui.loading': 'Loading…',
    'ui.empty': 'Nothing here yet',
    'ui.more': 'Load more',
    'ui.reason': 'Reason',
    'ui.required': 'required',
    'ui.error.title': 'That did not work',
    'ui.error.network': 'Cannot reach the server. Check your connection and try again.',
    'ui.error.http_400': 'Some input is invalid. Please check and try again.',
    'ui.error.http_401': 'Please sign in first.',
    'ui.error.http_403': 'You are not allowed to do this.',
    'ui.error.http_404': 'Not found, or you may not see it.',
    'ui.error.http_409': 'This conflicts with the current state. Refresh and try again.',
    'ui.error.http_413': 'What you sent is too large.',
    'ui.error.http_429': 'Too many requests. Please try again later.',
    'ui.error.http_500': 'The server failed. Please try again later.',
    'ui.error.field': 'Field: {field}',
    'ui.page': '{from}–{to} of {total}',
    'ui.page.prev': 'Previous',
    'ui.page.next': 'Next',
    'ui.page.of': 'Page {page} of {pages}',
    'srv.required': '{field} is required.',
    'srv.string': '{field} must be text.',
    'srv.maxChars': '{field} must be at most {n} characters.',
    'srv.notEmpty': '{field} must not be empty.',
    'srv.intRange': '{field} must be a whole number from {min} to {max}.',
    'srv.wholeNumber': '{field} must be a whole number, 0 or more.',
    'srv.bool': '{field} must be yes or no.',
    'srv.instant': '{field} must be a time with an offset, e.g. 2026-12-01T09:00:00+08:00.',
    'srv.oneOf': '{field} must be one of: {list}.',
    'srv.control': '{field} must not contain control characters.',
    'srv.date': '{field} must be a date, YYYY-MM-DD.',
    'srv.country': '{field} must be an ISO 3166 two-letter code such as CN, DE or US.',
    'srv.classCode': '{field} must be six digits of the national classification.',
    'srv.classUnknown': 'Class {code} is not in the national classification.',
    'srv.phone': '{field} may hold only digits, spaces and + - ( ).',
    'srv.email': '{field} must be an e-mail address.',
    'srv.slot': '{field} must divide a day (5, 10, 15, 20, 30, 60 …).',
    'srv.minMinutes': '{field} must be a multiple of the booking step, up to a week.',
    'srv.maxMinutes': '{field} must be a multiple of the booking step, from the shortest booking up to a week.',
    'srv.modes': '{field} must list one or more of self_operated, assisted, sample, remote.',
    'srv.spans': '{field} may hold at most {n} spans.',
    'srv.weekday': 'The weekday must be 1 (Monday) to 7 (Sunday).',
    'srv.span': 'Each span must run from 00:00–23:59 to a later time, up to 24:00.',
    'srv.overlap': 'The spans on weekday {day} overlap.',
    'srv.endAfterStart': 'The end must be after the start.',
    'srv.endAfterStart366': 'The end must be after the start, at most 366 days later.',
    'srv.toAfterFrom': 'The end must be after the start.',
    'srv.noUser': 'There is no such user.',
    'srv.noOrgId': 'No institution has this id.',
    'srv.wholeFen': '"{value}" is not a whole number (money in fen, e.g. 12000 for 120 yuan).',
    'srv.yesNo': 'Use yes or no (是/否, true/false).',
    'srv.modesCsv': 'List service modes separated by commas: self_operated, assisted, sample, remote.',
    'srv.noOrgCode': 'No institution has this code.',
    'srv.nameOrg': 'Give the owning institution\'s code.',
    'srv.ownOrgOnly': 'You may import only your own institution\'s instruments.',
    'srv.assetTwice': 'This asset number appears twice in the file.',
    'srv.other': '{field}: {message}',
  },
});

// ---- elements -------------------------------------------------------------------

/**
 * el('a', {href: '#/x', class: 'btn', onclick: fn, 'aria-label': '...', dataset: {id: 3}}, 'text', child, [more])
 * props: class (string or array), text, html is NOT supported (no innerHTML: no injection);
 * on<event> functions become listeners; dataset; style (object of CSS properties);
 * booleans set/omit attributes (disabled, required, checked, hidden); other keys become attributes,
 * except value/checked/selected which are set as properties. Children: strings, numbers, nodes,
 * arrays, null/undefined/false (skipped).
 */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      else if (k === 'text') node.textContent = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k === 'style' && typeof v === 'object') Object.assign(node.style, v);
      else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2).toLowerCase(), v);
      else if (k === 'value' || k === 'checked' || k === 'selected') node[k] = v;
      else if (v === true) node.setAttribute(k, '');
      else node.setAttribute(k, String(v));
    }
  }
  append(node, children);
  return node;
}

/** Appends children (same rules as el()) to node; returns node. */
export function append(node, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

/** Replaces all children of node; returns node. */
export function mount(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** A link: link('#/instruments/3', 'text') (use router.href() to build hash links). */
export function link(hrefValue, label, props = {}) {
  return el('a', { href: hrefValue, ...props }, label);
}

/** A button. kind: 'primary' | 'secondary' (default) | 'danger' | 'link'. onClick may be async (the button is disabled meanwhile). */
export function button(label, { kind = 'secondary', onClick, type = 'button', class: cls, ...props } = {}) {
  const b = el('button', { ...props, type, class: ['btn', `btn-${kind}`, cls] }, label);
  if (onClick) b.addEventListener('click', (ev) => withBusy(b, () => onClick(ev)));
  return b;
}

/** Runs fn with el disabled and aria-busy until it settles; errors propagate. */
export async function withBusy(node, fn) {
  if (node.disabled) return undefined;
  node.disabled = true;
  node.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    node.disabled = false;
    node.removeAttribute('aria-busy');
  }
}

/** A small label. kind: 'neutral' | 'info' | 'success' | 'warning' | 'danger' | 'role'. */
export function badge(text, kind = 'neutral') {
  return el('span', { class: `badge badge-${kind}` }, text);
}

/** A page heading with optional actions on the right: pageHeader(t('x.title'), button(...)). */
export function pageHeader(title, ...actions) {
  return el('div', { class: 'page-header' }, el('h1', null, title), actions.length ? el('div', { class: 'page-actions' }, actions) : null);
}

/** A card/section with an optional heading. */
export function card(title, ...children) {
  return el('section', { class: 'card' }, title ? el('h2', null, title) : null, children);
}

/** A description list from [[label, value], ...] (values may be nodes). */
export function detailList(pairs) {
  return el('dl', { class: 'details' }, pairs.filter(Boolean).map(([k, v]) => [el('dt', null, k), el('dd', null, v === '' || v === null || v === undefined ? '—' : v)]));
}

/** "Loading…" placeholder; replace it when data arrives. */
export function loading() {
  return el('p', { class: 'loading', role: 'status' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }), t('ui.loading'));
}

/** An empty state: a title, an optional hint and optional action nodes. */
export function emptyState(title, hint, ...actions) {
  return el('div', { class: 'empty-state' }, el('p', { class: 'empty-title' }, title), hint ? el('p', { class: 'muted' }, hint) : null, actions);
}

// ---- forms ----------------------------------------------------------------------

let idSeq = 0;
/** A unique element id with a readable prefix. */
export function uid(prefix = 'f') { idSeq += 1; return `${prefix}-${idSeq}`; }

/**
 * A labelled form field. opts: {label, name, type = 'text' | 'password' | 'number' | 'email' | 'date'
 * | 'datetime-local' | 'textarea' | 'select' | 'checkbox' | 'file' ..., value, options: [{value, label}]
 * or [value], required, hint, placeholder, autocomplete, min, max, step, rows, multiple, accept,
 * disabled, attrs: {...more attributes}}.
 * Returns the row element; row.control is the input/select/textarea.
 * Server field errors (ApiError.field === name) are shown under it by showError(form, err).
 */
export function formRow(opts) {
  const { label, name, type = 'text', value, options, required, hint, attrs = {} } = opts;
  const id = opts.id || uid(`f-${name || 'field'}`);
  const errId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const common = {
    id, name, required, disabled: opts.disabled,
    placeholder: opts.placeholder, autocomplete: opts.autocomplete,
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
    ...attrs,
  };
  let control;
  if (type === 'select') {
    control = el('select', { ...common, multiple: opts.multiple },
      (options || []).map((o) => {
        const opt = typeof o === 'object' ? o : { value: o, label: String(o) };
        return el('option', { value: String(opt.value ?? ''), selected: value !== undefined && String(value) === String(opt.value) }, opt.label);
      }));
  } else if (type === 'textarea') {
    control = el('textarea', { ...common, rows: opts.rows || 4 });
    if (value !== undefined && value !== null) control.value = String(value);
  } else if (type === 'checkbox') {
    control = el('input', { ...common, type: 'checkbox', checked: !!value });
  } else {
    control = el('input', { ...common, type, min: opts.min, max: opts.max, step: opts.step, accept: opts.accept, multiple: opts.multiple });
    if (value !== undefined && value !== null && type !== 'file') control.value = String(value);
  }
  const labelNode = el('label', { for: id }, label, required ? el('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  const row = el('div', { class: ['form-row', type === 'checkbox' && 'form-row-check'], dataset: { field: name || '' } },
    type === 'checkbox' ? [control, labelNode] : [labelNode, control],
    hint ? el('p', { class: 'hint', id: hintId }, hint) : null,
    el('p', { class: 'field-error', id: errId, 'aria-live': 'polite' }));
  row.control = control;
  return row;
}

/**
 * A form: form({onSubmit: async (values, form) => ..., submitLabel, rows: [formRow(...)...], actions: [...]})
 * onSubmit gets formValues(); while it runs the submit button is busy; an ApiError it throws is shown
 * in the form's error banner (with the field marked) automatically.
 */
export function form({ onSubmit, submitLabel, rows = [], actions = [], class: cls, ...props }) {
  const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel || t('ui.confirm'));
  const f = el('form', { class: ['form', cls], novalidate: false, ...props },
    el('div', { class: 'form-banner' }), rows, el('div', { class: 'form-actions' }, submit, actions));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!onSubmit) return;
    clearErrors(f);
    withBusy(submit, async () => {
      try {
        await onSubmit(formValues(f), f);
      } catch (err) {
        showError(f, err);
      }
    });
  });
  return f;
}

/**
 * The values of a form's named controls: text -> string, number -> Number (or null when empty),
 * checkbox -> boolean, select[multiple] -> array, file -> File|null.
 */
export function formValues(f) {
  const out = {};
  for (const c of f.elements) {
    if (!c.name || c.disabled) continue;
    if (c.type === 'checkbox') out[c.name] = c.checked;
    else if (c.type === 'radio') { if (c.checked) out[c.name] = c.value; }
    else if (c.type === 'number') out[c.name] = c.value === '' ? null : Number(c.value);
    else if (c.type === 'file') out[c.name] = c.files && c.files[0] ? c.files[0] : null;
    else if (c.tagName === 'SELECT' && c.multiple) out[c.name] = [...c.selectedOptions].map((o) => o.value);
    else out[c.name] = c.value;
  }
  return out;
}

// ---- errors, banners and toasts ------------------------------------------------------

/**
 * The label of an API field name for messages: a page registers 'field.<name>' messages
 * (addMessages({zh: {'field.name_en': '英文名称'}})); unknown names are shown as they are.
 */
export function fieldLabel(name) {
  if (!name) return '';
  return hasMessage(`field.${name}`) ? t(`field.${name}`) : name;
}

// The server's English validation messages (server/api/api.c, domain/instrument_rules.c,
// api/instrument_csv.c ...) as [pattern, message key, params from the match].
const F = "Field '([\\w.]+)'";
const SERVER_TEXTS = [
  [new RegExp(`^${F} is required\\.$`), 'srv.required', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be a string\\.$`), 'srv.string', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be at most (\\d+) characters\\.$`), 'srv.maxChars', (m) => ({ field: m[1], n: m[2] })],
  [new RegExp(`^${F} must not be empty\\.$`), 'srv.notEmpty', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be an integer from (-?\\d+) to (-?\\d+)\\.$`), 'srv.intRange', (m) => ({ field: m[1], min: m[2], max: m[3] })],
  [new RegExp(`^${F} must be a whole number, 0 or more\\.$`), 'srv.wholeNumber', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be true or false\\.$`), 'srv.bool', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be an RFC 3339 time`), 'srv.instant', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be one of:? (.+?)\\.$`), 'srv.oneOf', (m) => ({ field: m[1], list: m[2].split(/[ ,]+/).filter(Boolean).join(', ') })],
  [new RegExp(`^${F} must not contain control characters\\.$`), 'srv.control', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be a date YYYY-MM-DD\\.$`), 'srv.date', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be an ISO 3166`), 'srv.country', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be six digits of the national classification\\.$`), 'srv.classCode', (m) => ({ field: m[1] })],
  [/^Class (\S+) is not in the national classification\.$/, 'srv.classUnknown', (m) => ({ code: m[1] })],
  [new RegExp(`^${F} may hold only digits, spaces`), 'srv.phone', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be an e-mail address\\.$`), 'srv.email', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must divide a day`), 'srv.slot', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be a multiple of the slot, up to a week\\.$`), 'srv.minMinutes', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must be a multiple of the slot from the minimum`), 'srv.maxMinutes', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} must list one or more of self_operated`), 'srv.modes', (m) => ({ field: m[1] })],
  [new RegExp(`^${F} may hold at most (\\d+) spans\\.$`), 'srv.spans', (m) => ({ field: m[1], n: m[2] })],
  [/^Weekday must be 1 \(Monday\) to 7 \(Sunday\)\.$/, 'srv.weekday', () => ({})],
  [/^Each span must run from /, 'srv.span', () => ({})],
  [/^Spans on weekday (\d) overlap\.$/, 'srv.overlap', (m) => ({ day: m[1] })],
  [/^'end' must be after 'start', at most 366 days later\.$/, 'srv.endAfterStart366', () => ({})],
  [/^'end' must be after 'start'\.$/, 'srv.endAfterStart', () => ({})],
  [/^'to' must be after 'from'\.$/, 'srv.toAfterFrom', () => ({})],
  [/^No such user\.$/, 'srv.noUser', () => ({})],
  [/^No institution has this id\.$/, 'srv.noOrgId', () => ({})],
  [/^'(.*)' is not a whole number \(money in fen/, 'srv.wholeFen', (m) => ({ value: m[1] })],
  [/^Use true or false/, 'srv.yesNo', () => ({})],
  [/^List of self_operated, assisted, sample, remote/, 'srv.modesCsv', () => ({})],
  [/^No institution has this code\.$/, 'srv.noOrgCode', () => ({})],
  [/^Name the owning institution's code\.$/, 'srv.nameOrg', () => ({})],
  [/^You may import only your own institution's instruments\.$/, 'srv.ownOrgOnly', () => ({})],
  [/^This asset number appears twice in the file\.$/, 'srv.assetTwice', () => ({})],
];

/**
 * A server validation message in the current language, with field labels (fieldLabel) instead of
 * API field names; null when the message is not one it knows.
 */
export function serverText(message) {
  const s = String(message || '').trim();
  for (const [re, key, params] of SERVER_TEXTS) {
    const m = re.exec(s);
    if (!m) continue;
    const p = params(m);
    if (p.field) p.field = fieldLabel(p.field);
    return t(key, p);
  }
  return null;
}

/**
 * The text of one problem the server reported about a field (e.g. a CSV import row's
 * {field, message}): the translated message, else "label: message".
 */
export function fieldProblem(field, message) {
  return serverText(message) || (field ? t('srv.other', { field: fieldLabel(field), message }) : String(message || ''));
}

/**
 * The human text for an error: a registered 'error.<code>' message when a page added one
 * (e.g. addMessages({zh: {'error.slot_taken': '该时段已被预约'}})); else a known server
 * validation message in the current language (serverText); else in English the server's
 * message, in Chinese a generic text for the status followed by the server's message.
 */
export function errorMessage(err) {
  if (err instanceof ApiError) {
    if (err.body && err.body.client) return err.message; // inputError(): already the reader's language
    if (hasMessage(`error.${err.code}`)) return t(`error.${err.code}`, { field: fieldLabel(err.field) });
    if (err.status === 0) return t('ui.error.network');
    const known = err.status < 500 ? serverText(err.message) : null;
    if (known) return known;
    // Server messages are English: shown as they are in English, after a Chinese summary in Chinese.
    const server = err.message && err.message !== err.code ? err.message : '';
    if (server && getLang() === 'en') return server;
    const key = `ui.error.http_${err.status >= 500 ? 500 : err.status}`;
    const generic = hasMessage(key) ? t(key) : `HTTP ${err.status}`;
    return server ? `${generic}（${server}）` : generic;
  }
  if (err && err.message) return err.message;
  return String(err);
}

/**
 * An error for a form's own check before anything is sent: throw inputError('end', t('x.endBeforeStart'))
 * from a form's onSubmit and the message (already translated) shows under that field as is.
 */
export function inputError(field, message) {
  return new ApiError(400, 'invalid_input', message, field, { client: true });
}

/** Removes the banner and field errors shown by showError(). */
export function clearErrors(target) {
  if (!target) return;
  target.querySelectorAll(':scope > .form-banner > .banner, :scope > .banner-error').forEach((n) => n.remove());
  target.querySelectorAll('.field-error').forEach((n) => { n.textContent = ''; });
  target.querySelectorAll('[aria-invalid="true"]').forEach((n) => n.removeAttribute('aria-invalid'));
}

/**
 * Shows an error banner (role="alert") at the top of target (a form or any container).
 * err: an ApiError, an Error or a string. When err.field names a control inside target, that
 * control is marked aria-invalid, the message is shown under it and it gets focus.
 * Returns the banner element.
 */
export function showError(target, err) {
  const message = errorMessage(err);
  if (err && !(err instanceof ApiError) && !(typeof err === 'string')) console.error(err);
  clearErrors(target);
  const banner = el('div', { class: 'banner banner-error', role: 'alert' }, el('strong', null, t('ui.error.title')), ' ', el('span', { class: 'banner-message' }, message));
  const field = err instanceof ApiError && err.field;
  if (field && target) {
    const control = target.querySelector(`[name="${CSS.escape(field)}"]`);
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      const slot = control.closest('.form-row')?.querySelector('.field-error');
      if (slot) slot.textContent = message;
      control.focus();
    } else {
      banner.append(' ', el('span', { class: 'muted' }, t('ui.error.field', { field: fieldLabel(field) })));
    }
  }
  if (!target) {
    // A string or a form's own check is already translated text; anything else follows a language switch.
    const fixed = typeof err === 'string' || (err instanceof ApiError && err.body && err.body.client);
    toast(fixed ? message : () => errorMessage(err), 'error');
    return banner;
  }
  const slot = target.querySelector(':scope > .form-banner');
  if (slot) slot.append(banner); else target.prepend(banner);
  return banner;
}

/** An info/success/warning banner element (not inserted): banner(text, 'success'). */
export function banner(message, kind = 'info') {
  return el('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
}

function toastRegion() {
  let r = document.getElementById('toasts');
  if (!r) {
    r = el('div', { id: 'toasts', class: 'toasts', 'aria-live': 'polite', 'aria-atomic': 'false' });
    document.body.append(r);
  }
  return r;
}

// Open toasts -> a function that redraws one in the current language (toasts given a function).
const toastRedraw = new WeakMap();

// A language switch redraws the open toasts that can be translated again and dismisses those
// given a fixed string, which stays in the old language.
onLangChange(() => {
  const region = typeof document !== 'undefined' && document.getElementById('toasts');
  if (!region) return;
  for (const node of [...region.children]) {
    const redraw = toastRedraw.get(node);
    if (redraw) redraw(); else node.remove();
  }
});

/**
 * A short message in the corner. kind: 'info' | 'success' | 'error'. Errors stay until closed.
 * message: a function returning the text, e.g. () => t('admin.saved'), which runs again after a
 * language switch so the toast changes language with the page; or a string, already translated,
 * which cannot follow a switch: such a toast is dismissed when the language changes.
 */
export function toast(message, kind = 'info', { timeout = kind === 'error' ? 0 : 4000 } = {}) {
  const text = el('span', null, typeof message === 'function' ? message() : message);
  const close = el('button', { type: 'button', class: 'toast-close', 'aria-label': t('ui.close'), onclick: () => node.remove() }, '×');
  const node = el('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text, close);
  if (typeof message === 'function') {
    toastRedraw.set(node, () => {
      text.textContent = message();
      close.setAttribute('aria-label', t('ui.close'));
    });
  }
  toastRegion().append(node);
  if (timeout) setTimeout(() => node.remove(), timeout);
  return node;
}

// ---- tables ---------------------------------------------------------------------

/**
 * A table: table({columns: [{key, label, render?: (row) => node|string, align?: 'right', class?}],
 * rows, caption?, empty?: text, rowClass?: (row) => string, onRowClick?: (row) => void}).
 * Cells show row[key] unless render is given. Wrapped in a horizontally scrolling div.
 */
export function table({ columns, rows, caption, empty, rowClass, onRowClick, class: cls }) {
  const thead = el('thead', null, el('tr', null, columns.map((c) => el('th', { scope: 'col', class: [c.align === 'right' && 'num', c.class] }, c.label))));
  const body = el('tbody');
  const tbl = el('table', { class: ['table', cls] }, caption ? el('caption', null, caption) : null, thead, body);
  const addRows = (list) => {
    for (const row of list) {
      const tr = el('tr', { class: rowClass ? rowClass(row) : null },
        columns.map((c) => {
          const v = c.render ? c.render(row) : row[c.key];
          return el('td', { class: [c.align === 'right' && 'num', c.class], 'data-label': typeof c.label === 'string' ? c.label : null }, v === null || v === undefined || v === '' ? '—' : v);
        }));
      if (onRowClick) {
        tr.classList.add('clickable');
        tr.addEventListener('click', (ev) => { if (!ev.target.closest('a,button,input,select,textarea')) onRowClick(row); });
      }
      body.append(tr);
    }
  };
  if (!rows || rows.length === 0) {
    body.append(el('tr', { class: 'empty-row' }, el('td', { colspan: columns.length }, empty || t('ui.empty'))));
  } else addRows(rows);
  const wrap = el('div', { class: 'table-wrap' }, tbl);
  /** wrap.addRows(moreRows): appends rows (for "load more" pagination). */
  wrap.addRows = (list) => { body.querySelector('.empty-row')?.remove(); addRows(list); };
  wrap.table = tbl;
  return wrap;
}

/**
 * A "load more" control for cursor lists: morePager(nextCursor, async (cursor) => nextCursor2).
 * Hides itself when there is no cursor.
 */
export function morePager(nextCursor, loadMore) {
  let cursor = nextCursor;
  const b = button(t('ui.more'), {
    onClick: async () => {
      cursor = await loadMore(cursor);
      b.hidden = !cursor;
    },
  });
  b.hidden = !cursor;
  return el('div', { class: 'pager' }, b);
}

// ---- dialogs ----------------------------------------------------------------------

/**
 * A modal confirmation (native <dialog>). Resolves to false when cancelled, otherwise
 * {reason} (reason only when opts.reason is true: a required text field).
 * confirmDialog({title, message, confirmLabel, cancelLabel, danger: true, reason: true, reasonLabel}).
 * Give both labels when "OK"/"Cancel" would be ambiguous (e.g. 取消预约 / 保留预约).
 */
export function confirmDialog({ title, message, confirmLabel, cancelLabel, danger = false, reason = false, reasonLabel } = {}) {
  return new Promise((resolve) => {
    const reasonRow = reason ? formRow({ label: reasonLabel || t('ui.reason'), name: 'reason', type: 'textarea', required: true, rows: 3 }) : null;
    const titleId = uid('dlg-title');
    const dlg = el('dialog', { class: 'dialog', 'aria-labelledby': titleId });
    const f = el('form', { method: 'dialog' },
      el('h2', { id: titleId }, title || t('ui.confirm')),
      message ? el('p', null, message) : null,
      reasonRow,
      el('div', { class: 'form-actions' },
        el('button', { type: 'submit', value: 'ok', class: `btn ${danger ? 'btn-danger' : 'btn-primary'}` }, confirmLabel || t('ui.confirm')),
        el('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dlg.close('cancel') }, cancelLabel || t('ui.cancel'))));
    dlg.append(f);
    dlg.addEventListener('close', () => {
      const ok = dlg.returnValue === 'ok';
      const value = ok ? { reason: reasonRow ? reasonRow.control.value.trim() : undefined } : false;
      dlg.remove();
      resolve(value);
    });
    document.body.append(dlg);
    dlg.showModal();
    // A destructive question starts on the safe answer, so Enter does not destroy anything.
    (reasonRow ? reasonRow.control : f.querySelector(danger ? 'button[type="button"]' : 'button')).focus();
  });
}
