// Home page (#/): for visitors, what Yiqi is; for signed-in users, one card per
// role they hold with links to that role's pages. The links come from the page
// registry (pages whose `roles` list names the role and that have a nav entry),
// so pages added later appear here without editing this file.
import { addMessages, t } from '../i18n.js';
import { allPages, href, matchRoute, registerPage } from '../router.js';
import { ROLES, getUser } from '../session.js';
import { roleName } from '../shell.js';
import { el, link, mount } from '../ui.js';

addMessages({
  zh: {
    'home.title': '首页',
    'home.nav': '首页',
    'home.hero.title': '大零号湾 · 张江科学城 科研仪器共享',
    'home.hero.lead': '仪器共享 Yiqi 汇集两个科学园区高校、科研院所、医院和企业的科研仪器，让科研人员跨单位、跨园区查找仪器、在线预约机时，并按月完成费用结算。',
    'home.feature.search.title': '查找仪器',
    'home.feature.search.text': '按名称、型号、功能或分类检索两区共享仪器，查看开放时间、收费标准和联系人。',
    'home.feature.book.title': '在线预约',
    'home.feature.book.text': '查看空闲时段并直接预约，需要时由课题组负责人和仪器管理员审批。',
    'home.feature.settle.title': '费用与结算',
    'home.feature.settle.text': '使用记录自动计费，创新券按比例抵扣，科委按月完成跨区结算。',
    'home.browse': '浏览仪器目录',
    'home.signin': '登录',
    'home.hello': '您好，{name}',
    'home.roles': '您的角色：{roles}',
    'home.soon': '该角色的功能即将上线。',
    'home.everyone': '公共服务',
    'home.role.researcher': '检索两区共享仪器，在线预约机时，查看自己的预约、使用记录和费用。',
    'home.role.pi': '审批课题组成员的预约，查看课题组按月的仪器支出。',
    'home.role.operator': '维护本单位的仪器目录，审批预约，记录使用和培训，确认结算明细。',
    'home.role.commission': '查看共享统计和跨区流向，发放创新券，按月完成跨区结算。',
    'home.role.admin': '管理园区、单位、课题组和用户账号，查阅审计日志。',
  },
  en: {
    'home.title': 'Home',
    'home.nav': 'Home',
    'home.hero.title': 'Research instrument sharing for Grand Neo Bay and Zhangjiang Science City',
    'home.hero.lead': 'Yiqi brings together the research instruments of universities, institutes, hospitals and companies in two science zones, so researchers can find instruments across institutions and zones, book time online and settle fees monthly.',
    'home.feature.search.title': 'Find instruments',
    'home.feature.search.text': 'Search shared instruments of both zones by name, model, function or class; see open hours, rates and contacts.',
    'home.feature.book.title': 'Book online',
    'home.feature.book.text': 'See free time and book it directly, with approval by the PI and the operator where required.',
    'home.feature.settle.title': 'Fees and settlement',
    'home.feature.settle.text': 'Usage is priced automatically, innovation vouchers cover their share, and the commission settles across zones every month.',
    'home.browse': 'Browse the catalogue',
    'home.signin': 'Sign in',
    'home.hello': 'Hello, {name}',
    'home.roles': 'Your roles: {roles}',
    'home.soon': 'The pages for this role are coming soon.',
    'home.everyone': 'For everyone',
    'home.role.researcher': 'Search shared instruments of both zones, book time online, and see your bookings, usage and fees.',
    'home.role.pi': "Approve your group's bookings and see the group's instrument spending by month.",
    'home.role.operator': "Keep your institution's catalogue, approve bookings, record usage and training, and confirm settlement lines.",
    'home.role.commission': 'Follow sharing statistics and cross-zone flows, grant innovation vouchers, and close the monthly settlement.',
    'home.role.admin': 'Manage zones, institutions, lab groups and user accounts, and read the audit log.',
  },
});

function navLink(p) {
  return el('li', null, link(`#${(p.nav && p.nav.path) || p.path}`, t((p.nav && p.nav.labelKey) || p.titleKey)));
}

function anonymousHome() {
  const catalogue = matchRoute('/catalogue');
  return [
    el('section', { class: 'hero' },
      el('h1', null, t('home.hero.title')),
      el('p', { class: 'lead' }, t('home.hero.lead')),
      el('div', { class: 'hero-actions' },
        catalogue ? link(href('/catalogue'), t('home.browse'), { class: 'btn btn-primary' }) : null,
        link(href('/signin'), t('home.signin'), { class: `btn ${catalogue ? 'btn-secondary' : 'btn-primary'}` }))),
    el('div', { class: 'features' },
      ['search', 'book', 'settle'].map((k) => el('section', { class: 'card feature' },
        el('h2', null, t(`home.feature.${k}.title`)), el('p', null, t(`home.feature.${k}.text`))))),
  ];
}

function userHome(user) {
  const pages = allPages().filter((p) => p.nav && p.path !== '/');
  const publicPages = pages.filter((p) => p.roles === null || p.roles === 'any');
  const roles = (user.roles || []).filter((r) => ROLES.includes(r));
  return [
    el('h1', null, t('home.hello', { name: user.name || user.login })),
    el('p', { class: 'muted' }, t('home.roles', { roles: roles.map(roleName).join('、') || '—' })),
    el('div', { class: 'role-cards' },
      roles.map((role) => {
        const mine = pages.filter((p) => Array.isArray(p.roles) && p.roles.includes(role));
        return el('section', { class: 'card role-card', dataset: { role } },
          el('h2', null, roleName(role)),
          el('p', null, t(`home.role.${role}`)),
          mine.length ? el('ul', { class: 'link-list' }, mine.map(navLink)) : el('p', { class: 'muted' }, t('home.soon')));
      }),
      publicPages.length ? el('section', { class: 'card role-card' }, el('h2', null, t('home.everyone')), el('ul', { class: 'link-list' }, publicPages.map(navLink))) : null),
  ];
}

registerPage({
  path: '/',
  titleKey: 'home.title',
  roles: null,
  nav: { group: 'home', order: 0, labelKey: 'home.nav' },
  render(container) {
    const user = getUser();
    mount(container, user ? userHome(user) : anonymousHome());
  },
});
