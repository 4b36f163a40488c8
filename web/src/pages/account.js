// "My account" (#/account): the signed-in user's profile, freshly read from
// GET /api/v1/me. Later issues may add password change and API tokens here.
import { api } from '../api.js';
import { addMessages, t } from '../i18n.js';
import { registerPage } from '../router.js';
import { roleName } from '../shell.js';
import { badge, card, detailList, el, loading, mount, pageHeader } from '../ui.js';

addMessages({
  zh: {
    'account.title': '我的账号',
    'account.nav': '我的账号',
    'account.profile': '基本信息',
    'account.name': '姓名',
    'account.login': '用户名',
    'account.email': '电子邮箱',
    'account.roles': '角色',
    'account.org': '所属单位编号',
    'account.group': '所属课题组编号',
  },
  en: {
    'account.title': 'My account',
    'account.nav': 'My account',
    'account.profile': 'Profile',
    'account.name': 'Name',
    'account.login': 'Login',
    'account.email': 'Email',
    'account.roles': 'Roles',
    'account.org': 'Institution id',
    'account.group': 'Lab group id',
  },
});

registerPage({
  path: '/account',
  titleKey: 'account.title',
  roles: 'any',
  nav: { group: 'home', order: 90, labelKey: 'account.nav' },
  async render(container) {
    mount(container, pageHeader(t('account.title')), loading());
    const me = await api.get('me');
    mount(container, pageHeader(t('account.title')),
      card(t('account.profile'), detailList([
        [t('account.name'), me.name],
        [t('account.login'), el('span', { class: 'mono' }, me.login)],
        [t('account.email'), me.email],
        [t('account.roles'), el('span', { class: 'role-list' }, (me.roles || []).map((r) => badge(roleName(r), 'role')))],
        [t('account.org'), me.org_id],
        [t('account.group'), me.group_id],
      ])));
  },
});
