// "My account" (#/account): the signed-in user's profile, freshly read from
// GET /api/v1/me. Later issues may add password change and API tokens here.
import { api } from '../api.js';
import { addMessages, formatDateTime, getLang, t } from '../i18n.js';
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
    'account.org': '所属单位',
    'account.group': '所属课题组',
    'account.id': '用户编号',
    'account.barred': '预约受限',
    'account.barred_text': '因 90 天内 3 次爽约，{until} 前不能预约仪器。如有疑问请联系平台管理员。',
  },
  en: {
    'account.title': 'My account',
    'account.nav': 'My account',
    'account.profile': 'Profile',
    'account.name': 'Name',
    'account.login': 'Login',
    'account.email': 'Email',
    'account.roles': 'Roles',
    'account.org': 'Institution',
    'account.group': 'Lab group',
    'account.id': 'User id',
    'account.barred': 'Booking barred',
    'account.barred_text': 'After three no-shows in 90 days you cannot book instruments until {until}. Ask the platform administrator if this is wrong.',
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
    const bar = me.barred_until
      ? card(t('account.barred'), el('p', { class: 'account-barred' }, t('account.barred_text', { until: formatDateTime(me.barred_until) })))
      : null;
    mount(container, pageHeader(t('account.title')), bar,
      card(t('account.profile'), detailList([
        [t('account.name'), me.name],
        [t('account.id'), el('span', { class: 'mono' }, String(me.id))],
        [t('account.login'), el('span', { class: 'mono' }, me.login)],
        [t('account.email'), me.email],
        [t('account.roles'), el('span', { class: 'role-list' }, (me.roles || []).map((r) => badge(roleName(r), 'role')))],
        [t('account.org'), me.org_id ? `${(getLang() === 'en' && me.org_name_en) || me.org_name_zh || ''} (#${me.org_id})` : null],
        [t('account.group'), me.group_id ? `${me.group_name || ''} (#${me.group_id})` : null],
      ])));
  },
});
