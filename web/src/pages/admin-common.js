// Shared pieces of the admin area (issue 3): messages used by several admin pages,
// institution kinds, and loaders for the select boxes (zones, institutions, groups,
// users). Not a page: the admin-*.js page modules import it.
import { getAll } from '../api.js';
import { addMessages, localName, t } from '../i18n.js';
import { roleName } from '../shell.js';
import { el } from '../ui.js';

addMessages({
  zh: {
    'admin.kind.university': '高校',
    'admin.kind.institute': '科研院所',
    'admin.kind.enterprise': '企业',
    'admin.kind.hospital': '医院',
    'admin.kind.platform': '公共平台',
    'admin.kind.other': '其他',
    'admin.roles': '角色',
    'admin.none': '（无）',
    'admin.all': '全部',
    'admin.edit': '编辑',
    'admin.save': '保存',
    'admin.saved': '已保存。',
    'admin.created': '已创建。',
    'admin.back': '返回列表',
    'admin.yes': '是',
    'admin.no': '否',
    'error.invalid_credit_code': '统一社会信用代码无效（18 位，校验位按 GB 32100-2015 计算）。',
    'error.org_exists': '已有单位使用该代码或统一社会信用代码。',
    'error.zone_exists': '已有片区使用该代码。',
    'error.unknown_zone': '没有该片区。',
    'error.group_exists': '该单位已有同名课题组。',
    'error.invalid_pi': '课题组负责人必须是本单位的用户。',
    'error.pi_required': '需要负责人审批的课题组必须指定负责人。',
    'error.login_taken': '该用户名已被使用。',
    'error.weak_password': '密码太弱：至少 12 个字符，且不能是常见密码。',
    'error.org_required': '科研人员、课题组负责人和仪器管理员必须属于某个单位。',
    'error.invalid_group': '课题组必须属于该用户所在单位。',
    'error.cannot_demote_self': '不能取消自己的系统管理员角色。',
    'error.cannot_disable_self': '不能停用自己的账号。',
  },
  en: {
    'admin.kind.university': 'University',
    'admin.kind.institute': 'Research institute',
    'admin.kind.enterprise': 'Enterprise',
    'admin.kind.hospital': 'Hospital',
    'admin.kind.platform': 'Public platform',
    'admin.kind.other': 'Other',
    'admin.roles': 'Roles',
    'admin.none': '(none)',
    'admin.all': 'All',
    'admin.edit': 'Edit',
    'admin.save': 'Save',
    'admin.saved': 'Saved.',
    'admin.created': 'Created.',
    'admin.back': 'Back to the list',
    'admin.yes': 'Yes',
    'admin.no': 'No',
    'error.invalid_credit_code': 'Not a valid unified social credit code (18 characters, check character per GB 32100-2015).',
    'error.org_exists': 'Another institution has this code or credit code.',
    'error.zone_exists': 'A zone with this code exists.',
    'error.unknown_zone': 'No such zone.',
    'error.group_exists': 'The institution already has a group with this name.',
    'error.invalid_pi': 'The PI must be a user of the same institution.',
    'error.pi_required': 'A group that requires PI approval needs a PI.',
    'error.login_taken': 'This login is taken.',
    'error.weak_password': 'Password too weak: at least 12 characters, and not a common password.',
    'error.org_required': 'Researchers, PIs and operators belong to an institution.',
    'error.invalid_group': 'The group must belong to the user\'s institution.',
    'error.cannot_demote_self': 'You cannot take the administrator role from yourself.',
    'error.cannot_disable_self': 'You cannot disable your own account.',
  },
});

export const KINDS = ['university', 'institute', 'enterprise', 'hospital', 'platform', 'other'];
export const ROLE_LIST = ['researcher', 'pi', 'operator', 'commission', 'admin'];

export function kindName(kind) { return t(`admin.kind.${kind}`); }

export function kindOptions() { return KINDS.map((k) => ({ value: k, label: kindName(k) })); }

/** Every zone, as select options {value: code, label}. */
export async function zoneOptions() {
  const zones = await getAll('zones');
  return zones.map((z) => ({ value: z.code, label: `${localName(z)} (${z.code})` }));
}

/** Every institution (the list is public), by id. */
export async function loadOrgs() {
  const orgs = await getAll('orgs');
  return new Map(orgs.map((o) => [o.id, o]));
}

/** Select options for institutions; withNone adds an empty choice first. */
export function orgOptions(orgs, withNone) {
  const list = [...orgs.values()].map((o) => ({ value: o.id, label: `${localName(o)} (${o.code})` }));
  return withNone ? [{ value: '', label: t('admin.none') }, ...list] : list;
}

/** The institution's name for a table cell, or '—'. */
export function orgLabel(orgs, id) {
  const o = id ? orgs.get(id) : null;
  return o ? localName(o) : '';
}

/** Role badges text: "科研人员、仪器管理员". */
export function rolesText(roles) {
  return (roles || []).map(roleName).join(' · ');
}

/**
 * A group of role checkboxes named role_<role> (formValues gives booleans);
 * rolesFrom(values) turns them back into the API's list.
 */
export function roleCheckboxes(selected = []) {
  return el('fieldset', { class: 'form-row role-boxes', dataset: { field: 'roles' } },
    el('legend', null, t('admin.roles')),
    ROLE_LIST.map((r) => {
      const id = `role-box-${r}`;
      return el('span', { class: 'check-inline' },
        el('input', { type: 'checkbox', id, name: `role_${r}`, checked: selected.includes(r) }),
        el('label', { for: id }, roleName(r)));
    }),
    el('p', { class: 'field-error', 'aria-live': 'polite' }));
}

export function rolesFrom(values) {
  return ROLE_LIST.filter((r) => values[`role_${r}`]);
}

/** Drops empty strings from form values (optional fields left blank). */
export function compact(values) {
  const out = {};
  for (const [k, v] of Object.entries(values)) if (v !== '' && v !== null && v !== undefined) out[k] = v;
  return out;
}
