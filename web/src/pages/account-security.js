// "Password and API tokens" (#/account/security) for every signed-in user:
// change the password (the server ends every other session and hands this
// browser a fresh one), and create, list and revoke API tokens (the token text
// is shown once, right after creation).
import { api, setCsrf } from '../api.js';
import { addMessages, formatDateTime, t } from '../i18n.js';
import { registerPage } from '../router.js';
import { badge, banner, button, card, confirmDialog, el, form, formRow, loading, mount, pageHeader, table, toast } from '../ui.js';

addMessages({
  zh: {
    'security.title': '密码与 API 令牌',
    'security.nav': '密码与令牌',
    'security.password': '修改密码',
    'security.old': '当前密码',
    'security.new': '新密码',
    'security.newHint': '至少 12 个字符，不能是常见密码。修改后，其他设备上的登录会全部失效。',
    'security.change': '修改密码',
    'security.changed': '密码已修改，其他会话已全部结束。',
    'security.tokens': 'API 令牌',
    'security.tokensHint': '供脚本或仪器代理程序使用：请求头 Authorization: Bearer <令牌>。令牌只在创建时显示一次。',
    'security.tokenName': '令牌名称',
    'security.scopes': '权限范围',
    'security.scope.all': '全部（与本账号相同）',
    'security.scope.stats:read': '读取统计（stats:read）',
    'security.scope.usage:write': '录入上机记录（usage:write）',
    'security.create': '创建令牌',
    'security.created': '新令牌（请立即复制保存，之后不再显示）：',
    'security.lastUsed': '最近使用',
    'security.createdAt': '创建时间',
    'security.state': '状态',
    'security.active': '有效',
    'security.revoked': '已吊销',
    'security.revoke': '吊销',
    'security.revokeConfirm': '吊销后使用该令牌的程序将立即失去访问权限。确定吊销“{name}”？',
    'security.never': '从未',
    'security.noScope': '请至少选择一个权限范围。',
    'error.wrong_password': '当前密码不正确。',
    'error.same_password': '新密码不能与当前密码相同。',
    'error.too_many_tokens': '有效令牌过多（最多 50 个），请先吊销不用的令牌。',
  },
  en: {
    'security.title': 'Password and API tokens',
    'security.nav': 'Password and tokens',
    'security.password': 'Change password',
    'security.old': 'Current password',
    'security.new': 'New password',
    'security.newHint': 'At least 12 characters, not a common password. Other devices will be signed out.',
    'security.change': 'Change password',
    'security.changed': 'Password changed; all other sessions have ended.',
    'security.tokens': 'API tokens',
    'security.tokensHint': 'For scripts and instrument agents: send Authorization: Bearer <token>. A token is shown only once.',
    'security.tokenName': 'Token name',
    'security.scopes': 'Scopes',
    'security.scope.all': 'Everything this account may do',
    'security.scope.stats:read': 'Read statistics (stats:read)',
    'security.scope.usage:write': 'Record usage (usage:write)',
    'security.create': 'Create token',
    'security.created': 'Your new token (copy it now; it will not be shown again):',
    'security.lastUsed': 'Last used',
    'security.createdAt': 'Created',
    'security.state': 'State',
    'security.active': 'Active',
    'security.revoked': 'Revoked',
    'security.revoke': 'Revoke',
    'security.revokeConfirm': 'Programs using this token lose access at once. Revoke “{name}”?',
    'security.never': 'Never',
    'security.noScope': 'Choose at least one scope.',
    'error.wrong_password': 'The current password is wrong.',
    'error.same_password': 'The new password must differ from the current one.',
    'error.too_many_tokens': 'Too many active tokens (50 at most); revoke unused ones first.',
  },
});

const SCOPES = ['all', 'stats:read', 'usage:write'];
// The secret of a token just created, shown once by the next render.
let fresh = null;

registerPage({
  path: '/account/security',
  titleKey: 'security.title',
  roles: 'any',
  nav: { group: 'home', order: 91, labelKey: 'security.nav' },
  async render(container, _params, ctx) {
    mount(container, pageHeader(t('security.title')), loading());
    const { items } = await api.get('tokens', { query: { limit: 100 } });
    const password = card(t('security.password'), form({
      submitLabel: t('security.change'),
      rows: [
        formRow({ label: t('security.old'), name: 'old_password', type: 'password', required: true, autocomplete: 'current-password' }),
        formRow({ label: t('security.new'), name: 'new_password', type: 'password', required: true, autocomplete: 'new-password', hint: t('security.newHint'), attrs: { minlength: 12 } }),
      ],
      onSubmit: async (values, f) => {
        const r = await api.post('me/password', values);
        setCsrf(r.csrf_token);
        f.reset();
        toast(() => t('security.changed'), 'success');
      },
    }));
    const shown = fresh ? banner([t('security.created'), ' ', el('code', { class: 'mono token-secret' }, fresh)], 'success') : null;
    fresh = null;
    const scopeBoxes = el('fieldset', { class: 'form-row' }, el('legend', null, t('security.scopes')),
      SCOPES.map((s) => {
        const id = `scope-${s.replace(':', '-')}`;
        return el('span', { class: 'check-inline' }, el('input', { type: 'checkbox', id, name: `scope_${s}`, checked: s === 'all' }), el('label', { for: id }, t(`security.scope.${s}`)));
      }));
    const create = form({
      submitLabel: t('security.create'),
      rows: [formRow({ label: t('security.tokenName'), name: 'name', required: true }), scopeBoxes],
      onSubmit: async (values) => {
        const scopes = SCOPES.filter((s) => values[`scope_${s}`]);
        if (!scopes.length) throw new Error(t('security.noScope'));
        const tok = await api.post('tokens', { name: values.name, scopes });
        fresh = tok.token;
        ctx.rerender();
      },
    });
    const list = table({
      caption: t('security.tokens'),
      columns: [
        { key: 'name', label: t('security.tokenName') },
        { key: 'scopes', label: t('security.scopes'), render: (x) => x.scopes.join(', ') },
        { key: 'created_at', label: t('security.createdAt'), render: (x) => formatDateTime(x.created_at) },
        { key: 'last_used_at', label: t('security.lastUsed'), render: (x) => (x.last_used_at ? formatDateTime(x.last_used_at) : t('security.never')) },
        { key: 'state', label: t('security.state'), render: (x) => (x.revoked_at ? badge(t('security.revoked'), 'neutral') : badge(t('security.active'), 'success')) },
        {
          key: 'actions', label: '', render: (x) => (x.revoked_at ? '' : button(t('security.revoke'), {
            kind: 'danger',
            onClick: async () => {
              if (!(await confirmDialog({ title: t('security.revoke'), message: t('security.revokeConfirm', { name: x.name }), danger: true }))) return;
              await api.del(`tokens/${x.id}`);
              ctx.rerender();
            },
          })),
        },
      ],
      rows: items,
    });
    mount(container, pageHeader(t('security.title')), password,
      card(t('security.tokens'), el('p', { class: 'muted' }, t('security.tokensHint')), shown, list, create));
  },
});
