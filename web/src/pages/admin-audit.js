// The audit log (#/admin/audit), for admins and the commission: newest first,
// filtered by time, actor, action and object; "load more" follows the cursor.
// Each entry can show its before/after snapshots.
import { api } from '../api.js';
import { addMessages, formatDateTime, localToApiTime, t } from '../i18n.js';
import { registerPage } from '../router.js';
import { el, form, formRow, loading, morePager, mount, pageHeader, table } from '../ui.js';

const ACTIONS = [
  'login', 'login_failed', 'logout', 'password_change', 'password_change_failed', 'password_reset',
  'role_change', 'user_create', 'user_update', 'user_disable', 'user_enable', 'user_unbar',
  'zone_create', 'zone_update', 'org_create', 'org_update', 'group_create', 'group_update',
  'token_create', 'token_revoke',
  'instrument_create', 'instrument_update', 'instrument_retire', 'block_create', 'block_delete',
  'qualification_grant', 'qualification_revoke', 'usage_correct', 'usage_void', 'voucher_issue', 'voucher_top_up',
  'settlement_build', 'settlement_rebuild', 'settlement_build_failed', 'settlement_line_confirm',
  'settlement_line_dispute', 'settlement_close', 'settlement_close_failed',
];

addMessages({
  zh: {
    'adminAudit.title': '审计日志',
    'adminAudit.nav': '审计日志',
    'adminAudit.at': '时间',
    'adminAudit.actor': '操作人',
    'adminAudit.ip': '地址',
    'adminAudit.action': '操作',
    'adminAudit.object': '对象',
    'adminAudit.change': '变更',
    'adminAudit.from': '开始日期',
    'adminAudit.to': '结束日期（不含）',
    'adminAudit.objectType': '对象类型',
    'adminAudit.objectId': '对象编号',
    'adminAudit.apply': '筛选',
    'adminAudit.any': '全部',
    'adminAudit.before': '变更前',
    'adminAudit.after': '变更后',
    'adminAudit.show': '查看',
    'audit.action.login': '登录',
    'audit.action.login_failed': '登录失败',
    'audit.action.logout': '退出登录',
    'audit.action.password_change': '修改密码',
    'audit.action.password_change_failed': '修改密码失败',
    'audit.action.password_reset': '重设密码',
    'audit.action.role_change': '角色变更',
    'audit.action.user_create': '新增用户',
    'audit.action.user_update': '修改用户',
    'audit.action.user_disable': '停用用户',
    'audit.action.user_enable': '启用用户',
    'audit.action.user_unbar': '解除预约限制',
    'audit.action.zone_create': '新增片区',
    'audit.action.zone_update': '修改片区',
    'audit.action.org_create': '新增单位',
    'audit.action.org_update': '修改单位',
    'audit.action.group_create': '新增课题组',
    'audit.action.group_update': '修改课题组',
    'audit.action.token_create': '创建 API 令牌',
    'audit.action.token_revoke': '吊销 API 令牌',
    'audit.action.instrument_create': '新增仪器',
    'audit.action.instrument_update': '修改仪器',
    'audit.action.instrument_retire': '仪器退役',
    'audit.action.block_create': '设置维护时段',
    'audit.action.block_delete': '删除维护时段',
    'audit.action.qualification_grant': '登记培训资格',
    'audit.action.qualification_revoke': '撤销培训资格',
    'audit.action.usage_correct': '更正使用记录',
    'audit.action.usage_void': '作废使用记录',
    'audit.action.voucher_issue': '发放创新券',
    'audit.action.voucher_top_up': '创新券追加额度',
  },
  en: {
    'adminAudit.title': 'Audit log',
    'adminAudit.nav': 'Audit log',
    'adminAudit.at': 'Time',
    'adminAudit.actor': 'Actor',
    'adminAudit.ip': 'Address',
    'adminAudit.action': 'Action',
    'adminAudit.object': 'Object',
    'adminAudit.change': 'Change',
    'adminAudit.from': 'From date',
    'adminAudit.to': 'To date (exclusive)',
    'adminAudit.objectType': 'Object type',
    'adminAudit.objectId': 'Object id',
    'adminAudit.apply': 'Filter',
    'adminAudit.any': 'Any',
    'adminAudit.before': 'Before',
    'adminAudit.after': 'After',
    'adminAudit.show': 'Show',
    'audit.action.login': 'Sign-in',
    'audit.action.login_failed': 'Failed sign-in',
    'audit.action.logout': 'Sign-out',
    'audit.action.password_change': 'Password change',
    'audit.action.password_change_failed': 'Failed password change',
    'audit.action.password_reset': 'Password reset',
    'audit.action.role_change': 'Role change',
    'audit.action.user_create': 'User created',
    'audit.action.user_update': 'User changed',
    'audit.action.user_disable': 'User disabled',
    'audit.action.user_enable': 'User enabled',
    'audit.action.user_unbar': 'No-show bar lifted',
    'audit.action.zone_create': 'Zone created',
    'audit.action.zone_update': 'Zone changed',
    'audit.action.org_create': 'Institution created',
    'audit.action.org_update': 'Institution changed',
    'audit.action.group_create': 'Group created',
    'audit.action.group_update': 'Group changed',
    'audit.action.token_create': 'API token created',
    'audit.action.token_revoke': 'API token revoked',
    'audit.action.instrument_create': 'Instrument added',
    'audit.action.instrument_update': 'Instrument changed',
    'audit.action.instrument_retire': 'Instrument retired',
    'audit.action.block_create': 'Maintenance block set',
    'audit.action.block_delete': 'Maintenance block removed',
    'audit.action.qualification_grant': 'Training recorded',
    'audit.action.qualification_revoke': 'Training revoked',
    'audit.action.usage_correct': 'Usage record corrected',
    'audit.action.usage_void': 'Usage record voided',
    'audit.action.voucher_issue': 'Voucher issued',
    'audit.action.voucher_top_up': 'Voucher topped up',
  },
});

/** The localized name of an action (later areas register 'audit.action.<name>' too). */
function actionName(a) {
  const key = `audit.action.${a}`;
  const s = t(key);
  return s === key ? a : s;
}

function snapshot(entry) {
  if (entry.before === null && entry.after === null) return '';
  const pre = (v) => el('pre', { class: 'mono audit-json' }, JSON.stringify(v, null, 1));
  return el('details', null, el('summary', null, t('adminAudit.show')),
    entry.before !== null ? [el('strong', null, t('adminAudit.before')), pre(entry.before)] : null,
    entry.after !== null ? [el('strong', null, t('adminAudit.after')), pre(entry.after)] : null);
}

registerPage({
  path: '/admin/audit',
  titleKey: 'adminAudit.title',
  roles: ['admin', 'commission'],
  nav: { group: 'admin', order: 80, labelKey: 'adminAudit.nav' },
  async render(container, _params, ctx) {
    mount(container, pageHeader(t('adminAudit.title')), loading());
    const q = ctx.query;
    const query = {
      from: q.from ? localToApiTime(q.from, '00:00') : '',
      to: q.to ? localToApiTime(q.to, '00:00') : '',
      actor: q.actor, action: q.action, object_type: q.object_type, object_id: q.object_id,
    };
    const first = await api.get('audit', { query });
    const filters = form({
      class: 'toolbar inline-fields',
      submitLabel: t('adminAudit.apply'),
      rows: [
        formRow({ label: t('adminAudit.from'), name: 'from', type: 'date', value: q.from || '' }),
        formRow({ label: t('adminAudit.to'), name: 'to', type: 'date', value: q.to || '' }),
        formRow({ label: t('adminAudit.actor'), name: 'actor', value: q.actor || '' }),
        formRow({ label: t('adminAudit.action'), name: 'action', type: 'select', value: q.action || '', options: [{ value: '', label: t('adminAudit.any') }, ...ACTIONS.map((a) => ({ value: a, label: actionName(a) }))] }),
        formRow({ label: t('adminAudit.objectType'), name: 'object_type', value: q.object_type || '' }),
        formRow({ label: t('adminAudit.objectId'), name: 'object_id', type: 'number', min: 1, value: q.object_id || '' }),
      ],
      onSubmit: async (values) => ctx.navigate('/admin/audit', values),
    });
    const list = table({
      caption: t('adminAudit.title'),
      columns: [
        { key: 'at', label: t('adminAudit.at'), render: (e) => formatDateTime(e.at) },
        { key: 'actor_login', label: t('adminAudit.actor'), class: 'mono' },
        { key: 'ip', label: t('adminAudit.ip'), class: 'mono' },
        { key: 'action', label: t('adminAudit.action'), render: (e) => actionName(e.action) },
        { key: 'object', label: t('adminAudit.object'), render: (e) => (e.object_type ? `${e.object_type}${e.object_id ? ` #${e.object_id}` : ''}` : '') },
        { key: 'change', label: t('adminAudit.change'), render: snapshot },
      ],
      rows: first.items,
    });
    const more = morePager(first.next_cursor, async (cursor) => {
      const next = await api.get('audit', { query: { ...query, cursor } });
      list.addRows(next.items);
      return next.next_cursor;
    });
    mount(container, pageHeader(t('adminAudit.title')), filters, list, more);
  },
});
