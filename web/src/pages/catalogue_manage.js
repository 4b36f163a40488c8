// The operator's catalogue editor: #/catalogue/manage lists the institution's
// instruments (retired ones too) with edit and retire, CSV import (every row's
// errors shown, nothing written unless all rows are valid) and export;
// #/catalogue/new and #/catalogue/edit/:id are the instrument form. Admins pick
// the institution. Money is typed in yuan and sent in fen.
import { ApiError, api, apiUrl } from '../api.js';
import { addMessages, fenToYuanString, localName, parseYuanToFen, t } from '../i18n.js';
import { href, registerPage } from '../router.js';
import { getUser } from '../session.js';
import {
  banner, button, card, confirmDialog, el, emptyState, errorMessage, fieldLabel, fieldProblem, form, formRow, inputError, link, loading, mount, pageHeader, showError, table, toast,
} from '../ui.js';
import {
  RUN_STATUSES, SERVICE_MODES, SHARE_MODES, loadClasses, openHoursFromText, openHoursToText, priceText, statusBadge,
} from './catalogue_common.js';

addMessages({
  zh: {
    'manage.title': '目录维护',
    'manage.nav': '维护本单位仪器',
    'manage.new': '新增仪器',
    'manage.org': '单位',
    'manage.search': '在本单位仪器中查找',
    'manage.col.asset': '资产编号', 'manage.col.name': '仪器名称', 'manage.col.status': '状态', 'manage.col.price': '片区内价格',
    'manage.col.actions': '操作',
    'manage.edit': '编辑', 'manage.retire': '退役', 'manage.maint': '维护与培训',
    'manage.retireTitle': '退役这台仪器？', 'manage.retireText': '退役后仪器不再出现在目录中，也不能预约；历史预约和使用记录保留。',
    'manage.retired': '已退役：{name}',
    'manage.empty': '本单位还没有仪器', 'manage.emptyHint': '新增一台仪器，或用 CSV 文件批量导入。',
    'manage.import': '批量导入（CSV）',
    'manage.importHelp': '第一行为列名（英文字段名或中文名称均可），支持 Excel/WPS 保存的 UTF-8 或 GB18030 编码。按“单位 + 资产编号”匹配：已有的仪器会被更新。任何一行有错误时，整个文件都不会导入。',
    'manage.file': 'CSV 文件',
    'manage.importButton': '检查并导入',
    'manage.importOk': '导入完成：新增 {created} 台，更新 {updated} 台，{unchanged} 台无变化。',
    'manage.importBad': '文件中有 {n} 处错误，未导入任何数据。请修改后重新上传。',
    'manage.row': '行', 'manage.field': '字段', 'manage.message': '问题',
    'manage.export': '导出 CSV', 'manage.exportZh': '导出 CSV（中文列名）',
    'manage.noFile': '请先选择一个 CSV 文件。',
    'editor.new': '新增仪器', 'editor.edit': '编辑仪器',
    'editor.basic': '基本信息', 'editor.classValue': '分类与价值', 'editor.place': '位置与联系人', 'editor.texts': '介绍',
    'editor.rules': '预约规则', 'editor.price': '收费标准（元）',
    'editor.owner_org_id': '所属单位',
    'editor.asset_no': '资产编号', 'editor.name_zh': '中文名称', 'editor.name_en': '英文名称', 'editor.model': '规格型号',
    'editor.manufacturer': '生产制造商', 'editor.country': '产地国别（ISO 代码，如 CN、DE、US）', 'editor.department': '所属部门',
    'editor.class_code': '仪器分类', 'editor.category_type': '仪器类型', 'editor.share_mode': '共享方式', 'editor.run_status': '运行状态',
    'editor.original_value': '原值（元）', 'editor.purchase_date': '购置日期',
    'editor.address': '安放地址', 'editor.room': '房间号', 'editor.contact_name': '联系人', 'editor.contact_phone': '联系电话',
    'editor.contact_email': '电子邮箱',
    'editor.tech_specs': '主要技术指标', 'editor.functions': '主要功能', 'editor.service_content': '服务内容',
    'editor.sample_requirements': '样品要求', 'editor.open_rules': '用户须知',
    'editor.open_hours': '开放时间', 'editor.open_hours_hint': '格式：星期（1=周一 … 7=周日）和时段，如 “1-5 09:00-12:00,13:30-17:30; 6 09:00-12:00”',
    'editor.slot_minutes': '预约时间单位（分钟）', 'editor.min_minutes': '最短预约（分钟）', 'editor.max_minutes': '最长预约（分钟）',
    'editor.notice_minutes': '提前预约（分钟）', 'editor.horizon_days': '最远可预约（天）', 'editor.cancel_deadline_minutes': '开始前多少分钟可取消',
    'editor.requires_approval': '预约需要管理员审批', 'editor.requires_training': '自主上机需要培训',
    'editor.service_modes': '服务方式',
    'editor.unit': '计费单位', 'editor.internal': '本单位价格', 'editor.zone': '片区内其他单位价格', 'editor.cross_zone': '跨片区单位价格',
    'editor.min_charge': '开机费（每次）', 'editor.step_minutes': '计费步长（分钟）', 'editor.basis': '计费依据',
    'editor.save': '保存', 'editor.saved': '已保存', 'editor.badHours': '开放时间格式不对。', 'editor.badMoney': '请输入金额，如 120 或 120.50。',
  },
  en: {
    'manage.title': 'Catalogue upkeep',
    'manage.nav': 'Our instruments',
    'manage.new': 'Add an instrument',
    'manage.org': 'Institution',
    'manage.search': 'Find among our instruments',
    'manage.col.asset': 'Asset no.', 'manage.col.name': 'Name', 'manage.col.status': 'Status', 'manage.col.price': 'Zone rate',
    'manage.col.actions': 'Actions',
    'manage.edit': 'Edit', 'manage.retire': 'Retire', 'manage.maint': 'Maintenance and training',
    'manage.retireTitle': 'Retire this instrument?', 'manage.retireText': 'A retired instrument leaves the catalogue and cannot be booked; its bookings and usage stay on record.',
    'manage.retired': 'Retired: {name}',
    'manage.empty': 'No instruments yet', 'manage.emptyHint': 'Add one, or import a list from a CSV file.',
    'manage.import': 'Import a list (CSV)',
    'manage.importHelp': 'The first row names the columns (English field names or the Chinese labels), in UTF-8 or GB18030 as Excel and WPS save them. Rows match on institution + asset number: existing instruments are updated. If any row has an error, nothing in the file is imported.',
    'manage.file': 'CSV file',
    'manage.importButton': 'Check and import',
    'manage.importOk': 'Imported: {created} added, {updated} updated, {unchanged} unchanged.',
    'manage.importBad': 'The file has {n} problems; nothing was imported. Fix them and upload it again.',
    'manage.row': 'Row', 'manage.field': 'Field', 'manage.message': 'Problem',
    'manage.export': 'Export CSV', 'manage.exportZh': 'Export CSV (Chinese headers)',
    'manage.noFile': 'Choose a CSV file first.',
    'editor.new': 'Add an instrument', 'editor.edit': 'Edit instrument',
    'editor.basic': 'Basics', 'editor.classValue': 'Class and value', 'editor.place': 'Place and contact', 'editor.texts': 'Description',
    'editor.rules': 'Booking rules', 'editor.price': 'Rates (yuan)',
    'editor.owner_org_id': 'Institution',
    'editor.asset_no': 'Asset number', 'editor.name_zh': 'Chinese name', 'editor.name_en': 'English name', 'editor.model': 'Model',
    'editor.manufacturer': 'Manufacturer', 'editor.country': 'Country of origin (ISO code: CN, DE, US)', 'editor.department': 'Department',
    'editor.class_code': 'Class', 'editor.category_type': 'Category', 'editor.share_mode': 'Sharing', 'editor.run_status': 'Run status',
    'editor.original_value': 'Original value (yuan)', 'editor.purchase_date': 'Purchase date',
    'editor.address': 'Address', 'editor.room': 'Room', 'editor.contact_name': 'Contact', 'editor.contact_phone': 'Phone',
    'editor.contact_email': 'E-mail',
    'editor.tech_specs': 'Technical specifications', 'editor.functions': 'Functions', 'editor.service_content': 'Services',
    'editor.sample_requirements': 'Sample requirements', 'editor.open_rules': 'User rules',
    'editor.open_hours': 'Open hours', 'editor.open_hours_hint': 'Weekdays (1 = Monday … 7 = Sunday) and times, e.g. "1-5 09:00-12:00,13:30-17:30; 6 09:00-12:00"',
    'editor.slot_minutes': 'Booking step (min)', 'editor.min_minutes': 'Shortest booking (min)', 'editor.max_minutes': 'Longest booking (min)',
    'editor.notice_minutes': 'Notice (min)', 'editor.horizon_days': 'Book up to (days ahead)', 'editor.cancel_deadline_minutes': 'Cancel up to (min before)',
    'editor.requires_approval': 'Bookings need operator approval', 'editor.requires_training': 'Self-operation needs training',
    'editor.service_modes': 'Service modes',
    'editor.unit': 'Priced per', 'editor.internal': 'Own institution', 'editor.zone': 'Other institutions of the zone', 'editor.cross_zone': 'Institutions of the other zone',
    'editor.min_charge': 'Minimum charge per use', 'editor.step_minutes': 'Billing step (min)', 'editor.basis': 'Billed on',
    'editor.save': 'Save', 'editor.saved': 'Saved', 'editor.badHours': 'The open hours do not read right.', 'editor.badMoney': 'Enter an amount such as 120 or 120.50.',
  },
});

// Labels of the instrument's API fields, for server messages and the import's error list (ui.fieldLabel).
addMessages({
  zh: {
    'field.owner_org_code': '所属单位代码',
    'field.owner_org_id': '所属单位',
    'field.asset_no': '资产编号',
    'field.name_zh': '中文名称',
    'field.name_en': '英文名称',
    'field.model': '规格型号',
    'field.manufacturer': '生产制造商',
    'field.country': '产地国别',
    'field.department': '所属部门',
    'field.class_code': '仪器分类',
    'field.category_type': '仪器类型',
    'field.share_mode': '共享方式',
    'field.run_status': '运行状态',
    'field.original_value_fen': '原值',
    'field.purchase_date': '购置日期',
    'field.address': '安放地址',
    'field.room': '房间号',
    'field.tech_specs': '主要技术指标',
    'field.functions': '主要功能',
    'field.service_content': '服务内容',
    'field.sample_requirements': '样品要求',
    'field.open_rules': '用户须知',
    'field.contact_name': '联系人',
    'field.contact_phone': '联系电话',
    'field.contact_email': '电子邮箱',
    'field.rules': '预约规则',
    'field.price': '收费标准',
    'field.rules.open_hours': '开放时间',
    'field.rules.slot_minutes': '预约时间单位（分钟）',
    'field.rules.min_minutes': '最短预约（分钟）',
    'field.rules.max_minutes': '最长预约（分钟）',
    'field.rules.notice_minutes': '提前预约（分钟）',
    'field.rules.horizon_days': '最远可预约（天）',
    'field.rules.cancel_deadline_minutes': '取消期限（分钟）',
    'field.rules.requires_approval': '需要审批',
    'field.rules.requires_training': '需要培训',
    'field.rules.service_modes': '服务方式',
    'field.price.unit': '计费单位',
    'field.price.internal_fen': '本单位价格',
    'field.price.zone_fen': '片区内价格',
    'field.price.cross_zone_fen': '跨片区价格',
    'field.price.min_charge_fen': '开机费',
    'field.price.step_minutes': '计费步长（分钟）',
    'field.price.basis': '计费依据',
  },
  en: {
    'field.owner_org_code': 'Institution code',
    'field.owner_org_id': 'Institution',
    'field.asset_no': 'Asset number',
    'field.name_zh': 'Chinese name',
    'field.name_en': 'English name',
    'field.model': 'Model',
    'field.manufacturer': 'Manufacturer',
    'field.country': 'Country of origin',
    'field.department': 'Department',
    'field.class_code': 'Class',
    'field.category_type': 'Category',
    'field.share_mode': 'Sharing',
    'field.run_status': 'Run status',
    'field.original_value_fen': 'Original value',
    'field.purchase_date': 'Purchase date',
    'field.address': 'Address',
    'field.room': 'Room',
    'field.tech_specs': 'Technical specifications',
    'field.functions': 'Functions',
    'field.service_content': 'Services',
    'field.sample_requirements': 'Sample requirements',
    'field.open_rules': 'User rules',
    'field.contact_name': 'Contact',
    'field.contact_phone': 'Phone',
    'field.contact_email': 'E-mail',
    'field.rules': 'Booking rules',
    'field.price': 'Rates',
    'field.rules.open_hours': 'Open hours',
    'field.rules.slot_minutes': 'Booking step (min)',
    'field.rules.min_minutes': 'Shortest booking (min)',
    'field.rules.max_minutes': 'Longest booking (min)',
    'field.rules.notice_minutes': 'Notice (min)',
    'field.rules.horizon_days': 'Book up to (days)',
    'field.rules.cancel_deadline_minutes': 'Cancel deadline (min)',
    'field.rules.requires_approval': 'Needs approval',
    'field.rules.requires_training': 'Needs training',
    'field.rules.service_modes': 'Service modes',
    'field.price.unit': 'Priced per',
    'field.price.internal_fen': 'Own-institution rate',
    'field.price.zone_fen': 'Zone rate',
    'field.price.cross_zone_fen': 'Other-zone rate',
    'field.price.min_charge_fen': 'Minimum charge',
    'field.price.step_minutes': 'Billing step (min)',
    'field.price.basis': 'Billed on',
  },
});

const STAFF = ['operator', 'admin'];

/** The institutions an admin may pick (GET /api/v1/orgs when the accounts API offers it). */
async function orgChoices() {
  try {
    const { items } = await api.get('orgs', { query: { limit: 500 } });
    return items.map((o) => ({ value: o.id, label: `${localName(o)}（${o.code}）` }));
  } catch {
    return null;
  }
}

// ---- the list, import and export -------------------------------------------------------

/** An import error's field: its label, with the CSV column name the file may use. */
function fieldCell(field) {
  if (!field) return '';
  const label = fieldLabel(field);
  return label === field ? el('span', { class: 'mono' }, field) : el('span', null, label, ' ', el('span', { class: 'mono muted' }, `(${field})`));
}

/** The import card; onDone() after a successful import reloads the list (the result stays shown). */
function importCard(orgId, onDone) {
  const out = el('div', { class: 'import-result' });
  const fileRow = formRow({ label: t('manage.file'), name: 'file', type: 'file', accept: '.csv,text/csv' });
  const run = button(t('manage.importButton'), {
    kind: 'primary',
    onClick: async () => {
      mount(out);
      const file = fileRow.control.files[0];
      if (!file) { mount(out, banner(t('manage.noFile'), 'warning')); return; }
      const bytes = new Uint8Array(await file.arrayBuffer());
      // Excel and WPS in China often save CSV as GB18030: send what is not UTF-8 with that charset.
      let charset = 'utf-8';
      try { new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch { charset = 'gb18030'; }
      try {
        const r = await api.post('instruments/import', new Blob([bytes]), { contentType: `text/csv; charset=${charset}` });
        mount(out, banner(t('manage.importOk', r), 'success'));
        toast(() => t('manage.importOk', r), 'success');
        onDone().catch((err) => toast(() => errorMessage(err), 'error'));
      } catch (err) {
        if (err instanceof ApiError && err.body && Array.isArray(err.body.rows) && err.body.rows.length) {
          mount(out,
            el('div', { class: 'banner banner-error', role: 'alert' }, t('manage.importBad', { n: err.body.rows.length })),
            table({
              columns: [
                { key: 'row', label: t('manage.row'), align: 'right' },
                { key: 'field', label: t('manage.field'), render: (e) => fieldCell(e.field) },
                { key: 'message', label: t('manage.message'), render: (e) => fieldProblem(e.field, e.message) },
              ],
              rows: err.body.rows,
              class: 'import-errors',
            }));
        } else {
          showError(out, err);
        }
      }
    },
  });
  return card(t('manage.import'), el('p', { class: 'muted' }, t('manage.importHelp')), fileRow, el('div', { class: 'form-actions' }, run,
    link(apiUrl('instruments/export.csv', { org: orgId }), t('manage.export'), { class: 'btn btn-secondary', download: 'yiqi-instruments.csv' }),
    link(apiUrl('instruments/export.csv', { org: orgId, headers: 'zh' }), t('manage.exportZh'), { class: 'btn btn-ghost', download: 'yiqi-instruments-zh.csv' })), out);
}

registerPage({
  path: '/catalogue/manage',
  titleKey: 'manage.title',
  roles: STAFF,
  nav: { group: 'catalogue', order: 20, labelKey: 'manage.nav' },
  async render(container, params, ctx) {
    const user = getUser();
    const isAdmin = user.roles.includes('admin');
    const orgId = Number(ctx.query.org) || user.org_id || null;
    mount(container, pageHeader(t('manage.title')), loading());
    const orgs = isAdmin ? await orgChoices() : null;
    const picker = isAdmin
      ? (orgs
        ? formRow({ label: t('manage.org'), name: 'org', type: 'select', value: orgId || '', options: [{ value: '', label: '—' }, ...orgs] })
        : formRow({ label: t('manage.org'), name: 'org', type: 'number', value: orgId || '', min: 1 }))
      : null;
    if (picker) picker.control.addEventListener('change', () => ctx.navigate('/catalogue/manage', { org: picker.control.value, q: ctx.query.q }));
    const qRow = formRow({ label: t('manage.search'), name: 'q', type: 'search', value: ctx.query.q || '' });
    qRow.control.addEventListener('change', () => ctx.navigate('/catalogue/manage', { org: ctx.query.org, q: qRow.control.value.trim() }, { replace: true }));
    const listBox = el('div', null, loading());
    const query = { org: orgId, include_retired: '1', q: ctx.query.q || '', sort: 'name', limit: 100, facets: '0' };
    const columns = [
      { key: 'asset_no', label: t('manage.col.asset'), class: 'mono' },
      { key: 'name', label: t('manage.col.name'), render: (i) => link(href(`/instruments/${i.id}`), localName(i)) },
      { key: 'status', label: t('manage.col.status'), render: (i) => statusBadge(i) },
      { key: 'price', label: t('manage.col.price'), align: 'right', render: (i) => priceText(i, i.price.zone_fen) },
      {
        key: 'actions', label: t('manage.col.actions'), render: (i) => el('span', { class: 'row-actions' },
          link(href(`/catalogue/edit/${i.id}`), t('manage.edit'), { class: 'btn btn-small btn-secondary' }),
          i.retired ? null : link(href(`/instruments/${i.id}/maintenance`), t('manage.maint'), { class: 'btn btn-small btn-secondary manage-maint' }),
          i.retired ? null : button(t('manage.retire'), {
            kind: 'danger', class: 'btn-small',
            onClick: async () => {
              const ok = await confirmDialog({ title: t('manage.retireTitle'), message: t('manage.retireText'), confirmLabel: t('manage.retire'), danger: true });
              if (!ok) return;
              await api.post(`instruments/${i.id}/retire`);
              toast(() => t('manage.retired', { name: localName(i) }), 'success');
              ctx.rerender();
            },
          })),
      },
    ];
    /** (Re)loads the list only, so the import's result above it stays on the page. */
    const loadList = async () => {
      if (!orgId) { mount(listBox); return; }
      const page = await api.get('instruments', { query });
      if (!page.items.length) {
        mount(listBox, emptyState(t('manage.empty'), t('manage.emptyHint')));
        return;
      }
      const tbl = table({ columns, rows: page.items, class: 'manage-table' });
      let cursor = page.next_cursor;
      const more = button(t('ui.more'), {
        onClick: async () => {
          const next = await api.get('instruments', { query: { ...query, cursor } });
          tbl.addRows(next.items);
          cursor = next.next_cursor;
          more.hidden = !cursor;
        },
      });
      more.hidden = !cursor;
      mount(listBox, tbl, el('div', { class: 'pager' }, more));
    };
    mount(container,
      pageHeader(t('manage.title'), link(href('/catalogue/new', { org: orgId || '' }), t('manage.new'), { class: 'btn btn-primary' })),
      el('div', { class: 'toolbar' }, picker, qRow),
      listBox,
      orgId || !isAdmin ? importCard(orgId, loadList) : null);
    await loadList();
  },
});

// ---- the instrument form --------------------------------------------------------------

function yuan(fen) { return fen === undefined || fen === null ? '' : fenToYuanString(fen); }

function moneyField(name, label, fen, required) {
  return formRow({ label, name, type: 'text', value: yuan(fen), required, attrs: { inputmode: 'decimal' } });
}

function fail(field, key) {
  return inputError(field, t(key));
}

/** Form values -> the API body (fen, open-hours list, service modes). */
function toBody(v, isNew) {
  const hours = openHoursFromText(v['rules.open_hours'] || '');
  if (!hours) throw fail('rules.open_hours', 'editor.badHours');
  const money = (name, optional) => {
    const s = (v[name] || '').trim();
    if (!s && optional) return undefined;
    const fen = parseYuanToFen(s);
    if (fen === null) throw fail(name, 'editor.badMoney');
    return fen;
  };
  const body = {
    asset_no: v.asset_no, name_zh: v.name_zh, name_en: v.name_en, model: v.model, manufacturer: v.manufacturer,
    country: v.country.trim().toUpperCase(), department: v.department, class_code: v.class_code,
    category_type: v.category_type, share_mode: v.share_mode, run_status: v.run_status,
    original_value_fen: money('original_value_fen'), purchase_date: v.purchase_date || '',
    address: v.address, room: v.room, contact_name: v.contact_name, contact_phone: v.contact_phone, contact_email: v.contact_email,
    tech_specs: v.tech_specs, functions: v.functions, service_content: v.service_content,
    sample_requirements: v.sample_requirements, open_rules: v.open_rules,
    rules: {
      open_hours: hours, slot_minutes: v['rules.slot_minutes'], min_minutes: v['rules.min_minutes'], max_minutes: v['rules.max_minutes'],
      notice_minutes: v['rules.notice_minutes'], horizon_days: v['rules.horizon_days'], cancel_deadline_minutes: v['rules.cancel_deadline_minutes'],
      requires_approval: v['rules.requires_approval'], requires_training: v['rules.requires_training'],
      service_modes: SERVICE_MODES.filter((m) => v[`mode.${m}`]),
    },
    price: {
      unit: v['price.unit'], internal_fen: money('price.internal_fen'), zone_fen: money('price.zone_fen'),
      cross_zone_fen: money('price.cross_zone_fen', true), min_charge_fen: money('price.min_charge_fen', true) ?? 0,
      step_minutes: v['price.step_minutes'], basis: v['price.basis'],
    },
  };
  if (isNew) body.owner_org_id = Number(v.owner_org_id);
  return body;
}

async function renderEditor(container, inst, ctx) {
  const user = getUser();
  const isNew = !inst;
  const classes = await loadClasses();
  const orgs = isNew && user.roles.includes('admin') ? await orgChoices() : null;
  const i = inst || {
    owner_org_id: Number(ctx.query.org) || user.org_id, category_type: 'general', share_mode: 'external', run_status: 'normal',
    country: 'CN', rules: { open_hours: [1, 2, 3, 4, 5].map((d) => ({ weekday: d, from: '09:00', to: '18:00' })), slot_minutes: 30, min_minutes: 30, max_minutes: 480, notice_minutes: 120, horizon_days: 60, cancel_deadline_minutes: 1440, requires_approval: false, requires_training: false, service_modes: ['self_operated'] },
    price: { unit: 'hour', step_minutes: 15, basis: 'used', min_charge_fen: 0 },
  };
  const r = i.rules;
  const p = i.price;
  const opt = (list, prefix) => list.map((x) => ({ value: x, label: t(`${prefix}.${x}`) }));
  const classOptions = classes.items.filter((c) => c.level > 1 || !classes.items.some((d) => d.parent === c.code))
    .map((c) => ({ value: c.code, label: `${c.code} ${'　'.repeat(c.level - 1)}${localName(c)}` }));
  const txt = (name, required, extra = {}) => formRow({ label: t(`editor.${name}`), name, value: i[name] ?? '', required, ...extra });
  const num = (name, value) => formRow({ label: t(`editor.${name.split('.').pop()}`), name, type: 'number', value, min: 0, required: true });
  const section = (title, ...rows) => el('fieldset', { class: 'editor-section' }, el('legend', null, title), rows);
  const ownerRow = isNew && orgs
    ? formRow({ label: t('editor.owner_org_id'), name: 'owner_org_id', type: 'select', value: i.owner_org_id || '', options: orgs, required: true })
    : isNew ? formRow({ label: t('editor.owner_org_id'), name: 'owner_org_id', type: 'number', value: i.owner_org_id || '', required: true, attrs: { readonly: !user.roles.includes('admin') } }) : null;
  const f = form({
    submitLabel: t('editor.save'),
    class: 'editor-form',
    rows: [
      section(t('editor.basic'), ownerRow, el('div', { class: 'inline-fields' }, txt('asset_no', true), txt('name_zh', true)),
        el('div', { class: 'inline-fields' }, txt('name_en', true), txt('model', true)),
        el('div', { class: 'inline-fields' }, txt('manufacturer', true), txt('country', false))),
      section(t('editor.classValue'),
        formRow({ label: t('editor.class_code'), name: 'class_code', type: 'select', value: i.class_code || '', options: [{ value: '', label: '—' }, ...classOptions], required: true }),
        el('div', { class: 'inline-fields' },
          formRow({ label: t('editor.category_type'), name: 'category_type', type: 'select', value: i.category_type, options: opt(['general', 'specialised'], 'cat.category') }),
          formRow({ label: t('editor.share_mode'), name: 'share_mode', type: 'select', value: i.share_mode, options: opt(SHARE_MODES, 'cat.share') }),
          formRow({ label: t('editor.run_status'), name: 'run_status', type: 'select', value: i.run_status, options: opt(RUN_STATUSES, 'cat.status') })),
        el('div', { class: 'inline-fields' },
          moneyField('original_value_fen', t('editor.original_value'), i.original_value_fen, true),
          formRow({ label: t('editor.purchase_date'), name: 'purchase_date', type: 'date', value: i.purchase_date || '' }),
          txt('department', false))),
      section(t('editor.price'),
        el('div', { class: 'inline-fields' },
          formRow({ label: t('editor.unit'), name: 'price.unit', type: 'select', value: p.unit, options: opt(['hour', 'sample'], 'cat.unit') }),
          moneyField('price.internal_fen', t('editor.internal'), p.internal_fen, true),
          moneyField('price.zone_fen', t('editor.zone'), p.zone_fen, true),
          moneyField('price.cross_zone_fen', t('editor.cross_zone'), p.cross_zone_fen, false)),
        el('div', { class: 'inline-fields' },
          moneyField('price.min_charge_fen', t('editor.min_charge'), p.min_charge_fen, false),
          num('price.step_minutes', p.step_minutes),
          formRow({ label: t('editor.basis'), name: 'price.basis', type: 'select', value: p.basis, options: opt(['used', 'booked', 'greater'], 'cat.basis') }))),
      section(t('editor.rules'),
        formRow({ label: t('editor.open_hours'), name: 'rules.open_hours', value: openHoursToText(r.open_hours), hint: t('editor.open_hours_hint') }),
        el('div', { class: 'inline-fields' }, num('rules.slot_minutes', r.slot_minutes), num('rules.min_minutes', r.min_minutes), num('rules.max_minutes', r.max_minutes)),
        el('div', { class: 'inline-fields' }, num('rules.notice_minutes', r.notice_minutes), num('rules.horizon_days', r.horizon_days), num('rules.cancel_deadline_minutes', r.cancel_deadline_minutes)),
        formRow({ label: t('editor.requires_approval'), name: 'rules.requires_approval', type: 'checkbox', value: r.requires_approval }),
        formRow({ label: t('editor.requires_training'), name: 'rules.requires_training', type: 'checkbox', value: r.requires_training }),
        el('fieldset', { class: 'inline-checks', 'data-field': 'rules.service_modes' }, el('legend', null, t('editor.service_modes')),
          el('input', { type: 'hidden', name: 'rules.service_modes' }),
          SERVICE_MODES.map((m) => formRow({ label: t(`cat.mode.${m}`), name: `mode.${m}`, type: 'checkbox', value: r.service_modes.includes(m) })))),
      section(t('editor.place'),
        el('div', { class: 'inline-fields' }, txt('address', false), txt('room', false)),
        el('div', { class: 'inline-fields' }, txt('contact_name', false), txt('contact_phone', false), txt('contact_email', false, { type: 'email' }))),
      section(t('editor.texts'),
        ...['functions', 'tech_specs', 'service_content', 'sample_requirements', 'open_rules'].map((n) => txt(n, false, { type: 'textarea', rows: 3 }))),
    ],
    actions: [link(inst ? href(`/instruments/${inst.id}`) : href('/catalogue/manage'), t('ui.cancel'), { class: 'btn btn-ghost' })],
    onSubmit: async (values) => {
      const body = toBody(values, isNew);
      const saved = isNew ? await api.post('instruments', body) : await api.patch(`instruments/${inst.id}`, body);
      toast(() => t('editor.saved'), 'success');
      ctx.navigate(`/instruments/${saved.id}`);
    },
  });
  mount(container, pageHeader(isNew ? t('editor.new') : `${t('editor.edit')}：${localName(inst)}`), f);
}

registerPage({
  path: '/catalogue/new',
  titleKey: 'editor.new',
  roles: STAFF,
  nav: null,
  async render(container, params, ctx) {
    mount(container, loading());
    await renderEditor(container, null, ctx);
  },
});

registerPage({
  path: '/catalogue/edit/:id',
  titleKey: 'editor.edit',
  roles: STAFF,
  nav: null,
  async render(container, params, ctx) {
    mount(container, loading());
    const inst = await api.get(`instruments/${encodeURIComponent(params.id)}`);
    await renderEditor(container, inst, ctx);
  },
});

