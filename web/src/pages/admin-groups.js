// Admin: lab groups (#/admin/groups, #/admin/groups/:id). Admins manage every
// institution's groups; operators their own institution's. The PI is chosen from
// the institution's users.
import { api, getAll } from '../api.js';
import { addMessages, localName, t } from '../i18n.js';
import { href, registerPage } from '../router.js';
import { getUser, hasRole } from '../session.js';
import { card, el, form, formRow, link, loading, mount, pageHeader, table, toast } from '../ui.js';
import { loadOrgs, orgLabel, orgOptions } from './admin-common.js';

addMessages({
  zh: {
    'adminGroups.title': '课题组管理',
    'adminGroups.nav': '课题组',
    'adminGroups.name': '课题组名称',
    'adminGroups.org': '所属单位',
    'adminGroups.pi': '课题组负责人',
    'adminGroups.needsPi': '预约需负责人审批',
    'adminGroups.members': '成员数',
    'adminGroups.add': '新增课题组',
    'adminGroups.create': '创建课题组',
    'adminGroups.list': '课题组列表',
    'adminGroups.filterOrg': '按单位筛选',
    'adminGroups.editTitle': '修改课题组：{name}',
  },
  en: {
    'adminGroups.title': 'Lab groups',
    'adminGroups.nav': 'Lab groups',
    'adminGroups.name': 'Group name',
    'adminGroups.org': 'Institution',
    'adminGroups.pi': 'Principal investigator',
    'adminGroups.needsPi': 'Bookings need the PI\'s approval',
    'adminGroups.members': 'Members',
    'adminGroups.add': 'Add a lab group',
    'adminGroups.create': 'Create group',
    'adminGroups.list': 'Lab groups',
    'adminGroups.filterOrg': 'Filter by institution',
    'adminGroups.editTitle': 'Edit lab group: {name}',
  },
});

/** Users of an institution as PI choices (with an empty first choice). */
/** The institution's users with the PI role (only they may lead a group), and the group's current PI. */
async function piOptions(orgId, currentId) {
  const users = orgId ? await getAll('users', { org_id: orgId, role: 'pi', limit: 500 }) : [];
  if (currentId && !users.some((u) => u.id === currentId)) {
    const current = await api.get(`users/${currentId}`).catch(() => null);
    if (current) users.unshift(current);
  }
  return [{ value: '', label: t('admin.none') }, ...users.map((u) => ({ value: u.id, label: `${u.name} (${u.login})` }))];
}

function setOptions(select, options, value) {
  select.replaceChildren(...options.map((o) => el('option', { value: String(o.value), selected: String(o.value) === String(value ?? '') }, o.label)));
}

function groupBody(values) {
  return {
    name: values.name,
    pi_user_id: values.pi_user_id ? Number(values.pi_user_id) : null,
    requires_pi_approval: values.requires_pi_approval,
  };
}

registerPage({
  path: '/admin/groups',
  titleKey: 'adminGroups.title',
  roles: ['admin', 'operator'],
  nav: { group: 'admin', order: 30, labelKey: 'adminGroups.nav' },
  async render(container, _params, ctx) {
    mount(container, pageHeader(t('adminGroups.title')), loading());
    const admin = hasRole('admin');
    const orgs = await loadOrgs();
    const orgFilter = admin ? ctx.query.org_id || '' : String(getUser().org_id || '');
    const groups = await getAll('groups', { org_id: orgFilter, limit: 500 });
    const users = await getAll('users', { org_id: orgFilter, limit: 500 });
    const userName = new Map(users.map((u) => [u.id, u.name]));
    const filter = admin ? formRow({
      label: t('adminGroups.filterOrg'), name: 'org_filter', type: 'select', value: orgFilter,
      options: [{ value: '', label: t('admin.all') }, ...orgOptions(orgs)],
    }) : null;
    filter?.control.addEventListener('change', () => ctx.navigate('/admin/groups', { org_id: filter.control.value }));
    const list = table({
      caption: t('adminGroups.list'),
      columns: [
        { key: 'name', label: t('adminGroups.name'), render: (g) => link(href(`/admin/groups/${g.id}`), g.name) },
        { key: 'org', label: t('adminGroups.org'), render: (g) => orgLabel(orgs, g.org_id) },
        { key: 'pi', label: t('adminGroups.pi'), render: (g) => (g.pi_user_id ? userName.get(g.pi_user_id) || `#${g.pi_user_id}` : '') },
        { key: 'needs', label: t('adminGroups.needsPi'), render: (g) => t(g.requires_pi_approval ? 'admin.yes' : 'admin.no') },
        { key: 'members', label: t('adminGroups.members'), align: 'right' },
      ],
      rows: groups,
    });
    const ownOrgs = admin ? orgs : new Map([...orgs].filter(([id]) => id === getUser().org_id));
    const firstOrg = orgFilter || [...ownOrgs.keys()][0] || '';
    const orgRow = formRow({ label: t('adminGroups.org'), name: 'org_id', type: 'select', options: orgOptions(ownOrgs), value: firstOrg, required: true });
    const piRow = formRow({ label: t('adminGroups.pi'), name: 'pi_user_id', type: 'select', options: await piOptions(firstOrg) });
    orgRow.control.addEventListener('change', async () => setOptions(piRow.control, await piOptions(orgRow.control.value)));
    const create = card(t('adminGroups.add'), form({
      submitLabel: t('adminGroups.create'),
      rows: [
        orgRow,
        formRow({ label: t('adminGroups.name'), name: 'name', required: true }),
        piRow,
        formRow({ label: t('adminGroups.needsPi'), name: 'requires_pi_approval', type: 'checkbox' }),
      ],
      onSubmit: async (values) => {
        const body = { org_id: Number(values.org_id), ...groupBody(values) };
        if (body.pi_user_id === null) delete body.pi_user_id;
        await api.post('groups', body);
        toast(() => t('admin.created'), 'success');
        ctx.rerender();
      },
    }));
    mount(container, pageHeader(t('adminGroups.title')), filter ? el('div', { class: 'toolbar' }, filter) : null, list, create);
  },
});

registerPage({
  path: '/admin/groups/:id',
  titleKey: 'adminGroups.title',
  roles: ['admin', 'operator'],
  nav: null,
  async render(container, params, ctx) {
    mount(container, pageHeader(t('adminGroups.title')), loading());
    const group = await api.get(`groups/${params.id}`);
    const [orgs, pis] = await Promise.all([loadOrgs(), piOptions(group.org_id, group.pi_user_id)]);
    mount(container,
      pageHeader(t('adminGroups.editTitle', { name: group.name }), link(href('/admin/groups'), t('admin.back'))),
      el('p', { class: 'muted' }, `${t('adminGroups.org')}：${localName(orgs.get(group.org_id))}`),
      card(null, form({
        submitLabel: t('admin.save'),
        rows: [
          formRow({ label: t('adminGroups.name'), name: 'name', value: group.name, required: true }),
          formRow({ label: t('adminGroups.pi'), name: 'pi_user_id', type: 'select', options: pis, value: group.pi_user_id ?? '' }),
          formRow({ label: t('adminGroups.needsPi'), name: 'requires_pi_approval', type: 'checkbox', value: group.requires_pi_approval }),
        ],
        onSubmit: async (values) => {
          await api.patch(`groups/${group.id}`, groupBody(values));
          toast(() => t('admin.saved'), 'success');
          ctx.navigate('/admin/groups', { org_id: group.org_id });
        },
      })));
  },
});
