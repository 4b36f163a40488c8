// Admin: institutions (#/admin/orgs list and "add", #/admin/orgs/:id edit).
// The server checks the unified social credit code (GB 32100-2015); a wrong one
// is marked on its field.
import { api, getAll } from '../api.js';
import { addMessages, localName, t } from '../i18n.js';
import { href, registerPage } from '../router.js';
import { card, el, form, formRow, link, loading, mount, pageHeader, table, toast } from '../ui.js';
import { compact, kindName, kindOptions, zoneOptions } from './admin-common.js';

addMessages({
  zh: {
    'adminOrgs.title': '单位管理',
    'adminOrgs.nav': '单位',
    'adminOrgs.code': '单位代码',
    'adminOrgs.codeHint': '简短代码，如 SJTU；1–32 位字母、数字、-、_ 或 .',
    'adminOrgs.nameZh': '单位中文名称',
    'adminOrgs.nameEn': '单位英文名称',
    'adminOrgs.zone': '所属片区',
    'adminOrgs.kind': '单位类型',
    'adminOrgs.creditCode': '统一社会信用代码',
    'adminOrgs.creditHint': '18 位，如 91350100M000100Y43',
    'adminOrgs.add': '新增单位',
    'adminOrgs.create': '创建单位',
    'adminOrgs.list': '全部单位',
    'adminOrgs.filterZone': '按片区筛选',
    'adminOrgs.editTitle': '修改单位：{name}',
  },
  en: {
    'adminOrgs.title': 'Institutions',
    'adminOrgs.nav': 'Institutions',
    'adminOrgs.code': 'Institution code',
    'adminOrgs.codeHint': 'A short code such as SJTU: 1–32 letters, digits, -, _ or .',
    'adminOrgs.nameZh': 'Chinese name',
    'adminOrgs.nameEn': 'English name',
    'adminOrgs.zone': 'Zone',
    'adminOrgs.kind': 'Kind',
    'adminOrgs.creditCode': 'Unified social credit code',
    'adminOrgs.creditHint': '18 characters, e.g. 91350100M000100Y43',
    'adminOrgs.add': 'Add an institution',
    'adminOrgs.create': 'Create institution',
    'adminOrgs.list': 'All institutions',
    'adminOrgs.filterZone': 'Filter by zone',
    'adminOrgs.editTitle': 'Edit institution: {name}',
  },
});

function orgRows(zones, org = {}) {
  return [
    formRow({ label: t('adminOrgs.code'), name: 'code', value: org.code, required: true, hint: t('adminOrgs.codeHint') }),
    formRow({ label: t('adminOrgs.nameZh'), name: 'name_zh', value: org.name_zh, required: true }),
    formRow({ label: t('adminOrgs.nameEn'), name: 'name_en', value: org.name_en, required: true }),
    formRow({ label: t('adminOrgs.zone'), name: 'zone', type: 'select', options: zones, value: org.zone, required: true }),
    formRow({ label: t('adminOrgs.kind'), name: 'kind', type: 'select', options: kindOptions(), value: org.kind, required: true }),
    formRow({ label: t('adminOrgs.creditCode'), name: 'credit_code', value: org.credit_code, required: true, hint: t('adminOrgs.creditHint'), attrs: { maxlength: 18, class: 'mono' } }),
  ];
}

registerPage({
  path: '/admin/orgs',
  titleKey: 'adminOrgs.title',
  roles: ['admin'],
  nav: { group: 'admin', order: 20, labelKey: 'adminOrgs.nav' },
  async render(container, _params, ctx) {
    mount(container, pageHeader(t('adminOrgs.title')), loading());
    const [zoneList, orgs] = await Promise.all([getAll('zones'), getAll('orgs', { zone: ctx.query.zone })]);
    const zones = zoneList.map((z) => ({ value: z.code, label: `${localName(z)} (${z.code})` }));
    const zoneName = (code) => { const z = zoneList.find((x) => x.code === code); return z ? localName(z) : code; };
    const filter = formRow({
      label: t('adminOrgs.filterZone'), name: 'zone_filter', type: 'select', value: ctx.query.zone || '',
      options: [{ value: '', label: t('admin.all') }, ...zones],
    });
    filter.control.addEventListener('change', () => ctx.navigate('/admin/orgs', { zone: filter.control.value }));
    const list = table({
      caption: t('adminOrgs.list'),
      columns: [
        { key: 'code', label: t('adminOrgs.code'), render: (o) => link(href(`/admin/orgs/${o.id}`), o.code) },
        { key: 'name', label: t('adminOrgs.nameZh'), render: (o) => localName(o) },
        { key: 'zone', label: t('adminOrgs.zone'), render: (o) => el('span', { title: o.zone }, zoneName(o.zone)) },
        { key: 'kind', label: t('adminOrgs.kind'), render: (o) => kindName(o.kind) },
        { key: 'credit_code', label: t('adminOrgs.creditCode'), class: 'mono' },
      ],
      rows: orgs,
    });
    const create = card(t('adminOrgs.add'), form({
      submitLabel: t('adminOrgs.create'),
      rows: orgRows(zones),
      onSubmit: async (values) => {
        await api.post('orgs', compact(values));
        toast(() => t('admin.created'), 'success');
        ctx.rerender();
      },
    }));
    mount(container, pageHeader(t('adminOrgs.title')), el('div', { class: 'toolbar' }, filter), list, create);
  },
});

registerPage({
  path: '/admin/orgs/:id',
  titleKey: 'adminOrgs.title',
  roles: ['admin'],
  nav: null,
  async render(container, params, ctx) {
    mount(container, pageHeader(t('adminOrgs.title')), loading());
    const [zones, org] = await Promise.all([zoneOptions(), api.get(`orgs/${params.id}`)]);
    mount(container, pageHeader(t('adminOrgs.editTitle', { name: localName(org) }), link(href('/admin/orgs'), t('admin.back'))),
      card(null, form({
        submitLabel: t('admin.save'),
        rows: orgRows(zones, org),
        onSubmit: async (values) => {
          await api.patch(`orgs/${org.id}`, compact(values));
          toast(() => t('admin.saved'), 'success');
          ctx.navigate('/admin/orgs');
        },
      })));
  },
});

