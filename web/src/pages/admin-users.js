// Admin: users (#/admin/users list, #/admin/users/new, #/admin/users/:id).
// Admins create users, change roles, institution and group, disable and enable
// accounts, lift a no-show bar and set a new password; operators see their own
// institution's users (a bar too) and may change their contact details and group.
import { api, getAll } from '../api.js';
import { addMessages, formatDateTime, t } from '../i18n.js';
import { href, registerPage } from '../router.js';
import { getUser, hasRole } from '../session.js';
import { badge, button, card, confirmDialog, el, form, formRow, link, loading, morePager, mount, pageHeader, table, toast } from '../ui.js';
import { ROLE_LIST, compact, loadOrgs, orgLabel, orgOptions, roleCheckboxes, rolesFrom, rolesText } from './admin-common.js';
import { roleName } from '../shell.js';

addMessages({
  zh: {
    'adminUsers.title': '用户管理',
    'adminUsers.nav': '用户',
    'adminUsers.login': '用户名',
    'adminUsers.loginHint': '2–64 位字母、数字、.、_、- 或 @',
    'adminUsers.name': '姓名',
    'adminUsers.email': '电子邮箱',
    'adminUsers.phone': '电话',
    'adminUsers.org': '所属单位',
    'adminUsers.group': '所属课题组',
    'adminUsers.password': '初始密码',
    'adminUsers.passwordHint': '至少 12 个字符；请通过安全渠道告知本人。',
    'adminUsers.status': '状态',
    'adminUsers.active': '正常',
    'adminUsers.disabled': '已停用',
    'adminUsers.add': '新增用户',
    'adminUsers.create': '创建用户',
    'adminUsers.newTitle': '新增用户',
    'adminUsers.list': '用户列表',
    'adminUsers.search': '搜索用户名或姓名',
    'adminUsers.filterOrg': '单位',
    'adminUsers.filterRole': '角色',
    'adminUsers.apply': '筛选',
    'adminUsers.editTitle': '用户：{name}',
    'adminUsers.profile': '基本信息',
    'adminUsers.account': '账号状态',
    'adminUsers.created': '创建时间',
    'adminUsers.disable': '停用账号',
    'adminUsers.enable': '启用账号',
    'adminUsers.disableConfirm': '停用后，{name} 将立即退出所有会话且无法登录。确定停用？',
    'adminUsers.disabledToast': '账号已停用。',
    'adminUsers.enabledToast': '账号已启用。',
    'adminUsers.resetTitle': '重设密码',
    'adminUsers.newPassword': '新密码',
    'adminUsers.reset': '重设密码',
    'adminUsers.resetDone': '密码已重设，该用户的所有会话已结束。',
    'adminUsers.barred': '预约受限',
    'adminUsers.barTitle': '爽约预约限制',
    'adminUsers.barredUntil': '90 天内 3 次爽约，暂停预约至 {until}。',
    'adminUsers.liftBar': '解除限制',
    'adminUsers.liftConfirm': '解除后 {name} 可立即重新预约，此前的未到记录不再计入新的限制。确定解除限制？',
    'adminUsers.liftedToast': '预约限制已解除。',
  },
  en: {
    'adminUsers.title': 'Users',
    'adminUsers.nav': 'Users',
    'adminUsers.login': 'Login',
    'adminUsers.loginHint': '2–64 letters, digits, ., _, - or @',
    'adminUsers.name': 'Name',
    'adminUsers.email': 'Email',
    'adminUsers.phone': 'Phone',
    'adminUsers.org': 'Institution',
    'adminUsers.group': 'Lab group',
    'adminUsers.password': 'Initial password',
    'adminUsers.passwordHint': 'At least 12 characters; hand it over through a safe channel.',
    'adminUsers.status': 'Status',
    'adminUsers.active': 'Active',
    'adminUsers.disabled': 'Disabled',
    'adminUsers.add': 'Add a user',
    'adminUsers.create': 'Create user',
    'adminUsers.newTitle': 'New user',
    'adminUsers.list': 'Users',
    'adminUsers.search': 'Search login or name',
    'adminUsers.filterOrg': 'Institution',
    'adminUsers.filterRole': 'Role',
    'adminUsers.apply': 'Filter',
    'adminUsers.editTitle': 'User: {name}',
    'adminUsers.profile': 'Profile',
    'adminUsers.account': 'Account',
    'adminUsers.created': 'Created',
    'adminUsers.disable': 'Disable account',
    'adminUsers.enable': 'Enable account',
    'adminUsers.disableConfirm': '{name} will be signed out everywhere at once and cannot sign in. Disable?',
    'adminUsers.disabledToast': 'The account is disabled.',
    'adminUsers.enabledToast': 'The account is enabled.',
    'adminUsers.resetTitle': 'Set a new password',
    'adminUsers.newPassword': 'New password',
    'adminUsers.reset': 'Set password',
    'adminUsers.resetDone': 'Password set; all of the user\'s sessions have ended.',
    'adminUsers.barred': 'Barred',
    'adminUsers.barTitle': 'No-show bar',
    'adminUsers.barredUntil': 'Three no-shows in 90 days: may not book until {until}.',
    'adminUsers.liftBar': 'Lift bar',
    'adminUsers.liftConfirm': '{name} will be able to book again at once, and the no-shows so far will no longer count towards a new bar. Lift the bar?',
    'adminUsers.liftedToast': 'The bar is lifted.',
  },
});

/** The groups of an institution as select options (empty first). */
async function groupOptions(orgId) {
  const groups = orgId ? await getAll('groups', { org_id: orgId, limit: 500 }) : [];
  return [{ value: '', label: t('admin.none') }, ...groups.map((g) => ({ value: g.id, label: g.name }))];
}

function setOptions(select, options, value) {
  select.replaceChildren(...options.map((o) => el('option', { value: String(o.value), selected: String(o.value) === String(value ?? '') }, o.label)));
}

/** Institution and group selects that keep the group list in step with the institution. */
async function placementRows(orgs, user = {}, { orgEditable = true } = {}) {
  const orgRow = formRow({ label: t('adminUsers.org'), name: 'org_id', type: 'select', options: orgOptions(orgs, true), value: user.org_id ?? '', disabled: !orgEditable });
  const groupRow = formRow({ label: t('adminUsers.group'), name: 'group_id', type: 'select', options: await groupOptions(user.org_id), value: user.group_id ?? '' });
  orgRow.control.addEventListener('change', async () => setOptions(groupRow.control, await groupOptions(orgRow.control.value)));
  return [orgRow, groupRow];
}

const idOrNull = (v) => (v === '' || v === null || v === undefined ? null : Number(v));

function statusBadge(u) {
  const status = u.disabled ? badge(t('adminUsers.disabled'), 'danger') : badge(t('adminUsers.active'), 'success');
  return u.barred_until ? [status, ' ', badge(t('adminUsers.barred'), 'warning')] : status;
}

/** A no-show bar (until when, local time); admins may lift it. Null when not barred. */
function barCard(u, admin, ctx) {
  if (!u.barred_until) return null;
  return card(t('adminUsers.barTitle'),
    el('p', null, badge(t('adminUsers.barred'), 'warning'), ' ', t('adminUsers.barredUntil', { until: formatDateTime(u.barred_until) })),
    admin ? button(t('adminUsers.liftBar'), {
      kind: 'primary',
      onClick: async () => {
        if (!(await confirmDialog({ title: t('adminUsers.liftBar'), message: t('adminUsers.liftConfirm', { name: u.name }) }))) return;
        await api.patch(`users/${u.id}`, { barred_until: null });
        toast(() => t('adminUsers.liftedToast'), 'success');
        ctx.rerender();
      },
    }) : null);
}

registerPage({
  path: '/admin/users',
  titleKey: 'adminUsers.title',
  roles: ['admin', 'operator'],
  nav: { group: 'admin', order: 40, labelKey: 'adminUsers.nav' },
  async render(container, _params, ctx) {
    mount(container, pageHeader(t('adminUsers.title')), loading());
    const admin = hasRole('admin');
    const query = { org_id: ctx.query.org_id, role: ctx.query.role, q: ctx.query.q };
    const [orgs, first] = await Promise.all([loadOrgs(), api.get('users', { query })]);
    const filters = form({
      class: 'toolbar inline-fields',
      submitLabel: t('adminUsers.apply'),
      rows: [
        formRow({ label: t('adminUsers.search'), name: 'q', type: 'search', value: ctx.query.q || '' }),
        admin ? formRow({ label: t('adminUsers.filterOrg'), name: 'org_id', type: 'select', value: ctx.query.org_id || '', options: [{ value: '', label: t('admin.all') }, ...orgOptions(orgs)] }) : null,
        formRow({ label: t('adminUsers.filterRole'), name: 'role', type: 'select', value: ctx.query.role || '', options: [{ value: '', label: t('admin.all') }, ...ROLE_LIST.map((r) => ({ value: r, label: roleName(r) }))] }),
      ],
      onSubmit: async (values) => ctx.navigate('/admin/users', values),
    });
    const list = table({
      caption: t('adminUsers.list'),
      columns: [
        { key: 'login', label: t('adminUsers.login'), render: (u) => link(href(`/admin/users/${u.id}`), u.login) },
        { key: 'name', label: t('adminUsers.name') },
        { key: 'org', label: t('adminUsers.org'), render: (u) => orgLabel(orgs, u.org_id) },
        { key: 'roles', label: t('admin.roles'), render: (u) => rolesText(u.roles) },
        { key: 'status', label: t('adminUsers.status'), render: statusBadge },
      ],
      rows: first.items,
    });
    const more = morePager(first.next_cursor, async (cursor) => {
      const next = await api.get('users', { query: { ...query, cursor } });
      list.addRows(next.items);
      return next.next_cursor;
    });
    const add = admin ? link(href('/admin/users/new'), t('adminUsers.add'), { class: 'btn btn-primary' }) : null;
    mount(container, pageHeader(t('adminUsers.title'), add), filters, list, more);
  },
});

registerPage({
  path: '/admin/users/new',
  titleKey: 'adminUsers.newTitle',
  roles: ['admin'],
  nav: null,
  async render(container, _params, ctx) {
    mount(container, pageHeader(t('adminUsers.newTitle')), loading());
    const orgs = await loadOrgs();
    const preset = { org_id: ctx.query.org_id ? Number(ctx.query.org_id) : undefined };
    mount(container, pageHeader(t('adminUsers.newTitle'), link(href('/admin/users'), t('admin.back'))),
      card(null, form({
        submitLabel: t('adminUsers.create'),
        rows: [
          formRow({ label: t('adminUsers.login'), name: 'login', required: true, hint: t('adminUsers.loginHint'), autocomplete: 'off' }),
          formRow({ label: t('adminUsers.name'), name: 'name', required: true }),
          formRow({ label: t('adminUsers.email'), name: 'email', type: 'email', required: true }),
          formRow({ label: t('adminUsers.phone'), name: 'phone', type: 'tel' }),
          ...(await placementRows(orgs, preset)),
          roleCheckboxes(['researcher']),
          formRow({ label: t('adminUsers.password'), name: 'password', type: 'password', required: true, hint: t('adminUsers.passwordHint'), autocomplete: 'new-password', attrs: { minlength: 12 } }),
        ],
        onSubmit: async (values) => {
          const body = compact({ login: values.login, name: values.name, email: values.email, phone: values.phone, password: values.password });
          body.roles = rolesFrom(values);
          if (values.org_id) body.org_id = Number(values.org_id);
          if (values.group_id) body.group_id = Number(values.group_id);
          const u = await api.post('users', body);
          toast(() => t('admin.created'), 'success');
          ctx.navigate(`/admin/users/${u.id}`);
        },
      })));
  },
});

registerPage({
  path: '/admin/users/:id',
  titleKey: 'adminUsers.title',
  roles: ['admin', 'operator'],
  nav: null,
  async render(container, params, ctx) {
    mount(container, pageHeader(t('adminUsers.title')), loading());
    const admin = hasRole('admin');
    const [u, orgs] = await Promise.all([api.get(`users/${params.id}`), loadOrgs()]);
    const rows = [
      formRow({ label: t('adminUsers.name'), name: 'name', value: u.name, required: true }),
      formRow({ label: t('adminUsers.email'), name: 'email', type: 'email', value: u.email }),
      formRow({ label: t('adminUsers.phone'), name: 'phone', type: 'tel', value: u.phone }),
      ...(await placementRows(orgs, u, { orgEditable: admin })),
      admin ? roleCheckboxes(u.roles) : null,
    ];
    const profile = card(t('adminUsers.profile'), el('p', { class: 'muted' }, `${t('adminUsers.login')}：`, el('span', { class: 'mono' }, u.login)), form({
      submitLabel: t('admin.save'),
      rows,
      onSubmit: async (values) => {
        const body = { name: values.name, email: values.email, phone: values.phone, group_id: idOrNull(values.group_id) };
        if (admin) {
          body.org_id = idOrNull(values.org_id);
          body.roles = rolesFrom(values);
        }
        await api.patch(`users/${u.id}`, body);
        toast(() => t('admin.saved'), 'success');
        ctx.rerender();
      },
    }));
    const self = getUser() && getUser().id === u.id;
    const account = admin ? card(t('adminUsers.account'),
      el('p', null, statusBadge(u), ' ', el('span', { class: 'muted' }, `${t('adminUsers.created')} ${formatDateTime(u.created_at)}`)),
      self ? null : button(u.disabled ? t('adminUsers.enable') : t('adminUsers.disable'), {
        kind: u.disabled ? 'primary' : 'danger',
        onClick: async () => {
          if (!u.disabled && !(await confirmDialog({ title: t('adminUsers.disable'), message: t('adminUsers.disableConfirm', { name: u.name }), danger: true }))) return;
          await api.post(`users/${u.id}/${u.disabled ? 'enable' : 'disable'}`);
          const done = u.disabled ? 'adminUsers.enabledToast' : 'adminUsers.disabledToast';
          toast(() => t(done), 'success');
          ctx.rerender();
        },
      })) : null;
    const reset = admin && !self ? card(t('adminUsers.resetTitle'), form({
      submitLabel: t('adminUsers.reset'),
      rows: [formRow({ label: t('adminUsers.newPassword'), name: 'new_password', type: 'password', required: true, autocomplete: 'new-password', attrs: { minlength: 12 } })],
      onSubmit: async (values, f) => {
        await api.post(`users/${u.id}/password`, { new_password: values.new_password });
        f.reset();
        toast(() => t('adminUsers.resetDone'), 'success');
      },
    })) : null;
    mount(container, pageHeader(t('adminUsers.editTitle', { name: u.name }), link(href('/admin/users'), t('admin.back'))), barCard(u, admin, ctx), profile, account, reset);
  },
});
