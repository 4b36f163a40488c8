// Admin: zones (#/admin/zones, #/admin/zones?edit=CODE). Lists every zone, adds
// one (code, Chinese and English names) and renames one; the code never changes.
import { api, getAll } from '../api.js';
import { addMessages, t } from '../i18n.js';
import { registerPage } from '../router.js';
import { button, card, form, formRow, loading, mount, pageHeader, table, toast } from '../ui.js';
import './admin-common.js';

addMessages({
  zh: {
    'adminZones.title': '片区管理',
    'adminZones.nav': '片区',
    'adminZones.code': '片区代码',
    'adminZones.codeHint': '小写字母开头，2–32 位小写字母、数字、- 或 _，创建后不可修改。',
    'adminZones.nameZh': '中文名称',
    'adminZones.nameEn': '英文名称',
    'adminZones.add': '新增片区',
    'adminZones.create': '创建片区',
    'adminZones.editTitle': '修改片区“{code}”',
    'adminZones.list': '全部片区',
  },
  en: {
    'adminZones.title': 'Zones',
    'adminZones.nav': 'Zones',
    'adminZones.code': 'Zone code',
    'adminZones.codeHint': 'A lower-case letter, then 1–31 lower-case letters, digits, - or _. Cannot change later.',
    'adminZones.nameZh': 'Chinese name',
    'adminZones.nameEn': 'English name',
    'adminZones.add': 'Add a zone',
    'adminZones.create': 'Create zone',
    'adminZones.editTitle': 'Edit zone “{code}”',
    'adminZones.list': 'All zones',
  },
});

registerPage({
  path: '/admin/zones',
  titleKey: 'adminZones.title',
  roles: ['admin'],
  nav: { group: 'admin', order: 10, labelKey: 'adminZones.nav' },
  async render(container, _params, ctx) {
    mount(container, pageHeader(t('adminZones.title')), loading());
    const zones = await getAll('zones');
    const editing = zones.find((z) => z.code === ctx.query.edit);
    const list = table({
      caption: t('adminZones.list'),
      columns: [
        { key: 'code', label: t('adminZones.code'), class: 'mono' },
        { key: 'name_zh', label: t('adminZones.nameZh') },
        { key: 'name_en', label: t('adminZones.nameEn') },
        { key: 'edit', label: '', render: (z) => button(t('admin.edit'), { kind: 'link', onClick: () => ctx.navigate('/admin/zones', { edit: z.code }) }) },
      ],
      rows: zones,
    });
    const edit = editing ? card(t('adminZones.editTitle', { code: editing.code }), form({
      submitLabel: t('admin.save'),
      rows: [
        formRow({ label: t('adminZones.nameZh'), name: 'name_zh', value: editing.name_zh, required: true }),
        formRow({ label: t('adminZones.nameEn'), name: 'name_en', value: editing.name_en, required: true }),
      ],
      actions: [button(t('ui.cancel'), { onClick: () => ctx.navigate('/admin/zones') })],
      onSubmit: async (values) => {
        await api.patch(`zones/${encodeURIComponent(editing.code)}`, values);
        toast(() => t('admin.saved'), 'success');
        ctx.navigate('/admin/zones');
      },
    })) : null;
    const create = card(t('adminZones.add'), form({
      submitLabel: t('adminZones.create'),
      rows: [
        formRow({ label: t('adminZones.code'), name: 'code', required: true, hint: t('adminZones.codeHint'), attrs: { pattern: '[a-z][a-z0-9_\\-]{1,31}' } }),
        formRow({ label: t('adminZones.nameZh'), name: 'name_zh', required: true }),
        formRow({ label: t('adminZones.nameEn'), name: 'name_en', required: true }),
      ],
      onSubmit: async (values) => {
        await api.post('zones', values);
        toast(() => t('admin.created'), 'success');
        ctx.rerender();
      },
    }));
    mount(container, pageHeader(t('adminZones.title')), edit, list, create);
  },
});
