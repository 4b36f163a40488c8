// Small DOM helpers and components shared by every page. No framework: el() builds
// elements, components return elements, pages append them. Everything that shows
// user-visible text takes already-translated strings (call t() first).
//
// Accessibility: formRow() ties each <label> to its control (tests find fields by
// label), error banners use role="alert", toasts live in an aria-live region,
// tables get a <caption> when given one.

import { ApiError } from './api.js';
import { addMessages, getLang, hasMessage, t } from './i18n.js';

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
 * The human text for an error: a registered 'error.<code>' message when a page added one
 * (e.g. addMessages({zh: {'error.slot_taken': '该时段已被预约'}})); else in English the server's
 * message, in Chinese a generic text for the status followed by the server's message.
 */
export function errorMessage(err) {
  if (err instanceof ApiError) {
    if (hasMessage(`error.${err.code}`)) return t(`error.${err.code}`, { field: err.field || '' });
    if (err.status === 0) return t('ui.error.network');
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
      banner.append(' ', el('span', { class: 'muted' }, t('ui.error.field', { field })));
    }
  }
  if (!target) { toast(message, 'error'); return banner; }
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

/** A short message in the corner. kind: 'info' | 'success' | 'error'. Errors stay until closed. */
export function toast(message, kind = 'info', { timeout = kind === 'error' ? 0 : 4000 } = {}) {
  const node = el('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    el('span', null, message),
    el('button', { type: 'button', class: 'toast-close', 'aria-label': t('ui.close'), onclick: () => node.remove() }, '×'));
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
 * confirmDialog({title, message, confirmLabel, danger: true, reason: true, reasonLabel}).
 */
export function confirmDialog({ title, message, confirmLabel, danger = false, reason = false, reasonLabel } = {}) {
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
        el('button', { type: 'button', class: 'btn btn-secondary', onclick: () => dlg.close('cancel') }, t('ui.cancel'))));
    dlg.append(f);
    dlg.addEventListener('close', () => {
      const ok = dlg.returnValue === 'ok';
      const value = ok ? { reason: reasonRow ? reasonRow.control.value.trim() : undefined } : false;
      dlg.remove();
      resolve(value);
    });
    document.body.append(dlg);
    dlg.showModal();
    (reasonRow ? reasonRow.control : f.querySelector('button')).focus();
  });
}
