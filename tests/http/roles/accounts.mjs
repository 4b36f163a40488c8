// Role-matrix rows for accounts (issue 3): zones, institutions, groups, users,
// passwords, tokens, audit, /me; plus rows for later areas' endpoints that the
// scope rules of issue 3 already decide (marked `pending` until those land).
// Row format: see tests/http/role-matrix.test.mjs. Actors (tests/http/lib/world.mjs):
// anon, researcher, pi, operator (org A), operator_b (org B), commission, admin,
// token_all (op_a, all), token_stats (commission, stats:read), token_usage
// (op_a, usage:write), token_researcher_stats (res_a, stats:read).
// "Own" objects below belong to org A (the researcher's, pi's and operator's),
// "other" objects to org B.

// Public: everyone, tokens of any scope too (public endpoints ignore credentials).
const PUBLIC = { default: 200 };
// Admin only: anonymous 401, everyone else 403 (token_all acts as operator A).
const ADMIN = (status) => ({ anon: 401, admin: status, default: 403 });
// Any signed-in caller with an `all` credential; narrower tokens 403 by scope.
const SIGNED_IN = (status) => ({
  anon: 401, token_stats: 403, token_usage: 403, token_researcher_stats: 403, default: status,
});
const SCOPED_403 = { token_stats: 403, token_usage: 403, token_researcher_stats: 403 };

const orgBody = (ids, u) => ({
  code: `O${u}`, name_zh: `单位${u}`, name_en: `Org ${u}`, zone: 'neobay', kind: 'enterprise',
  credit_code: creditCode17(u),
});

// A valid credit code from the unique string (digits of its hash).
function creditCode17(u) {
  let h = 0;
  for (const ch of u) h = (h * 31 + ch.charCodeAt(0)) % 1e12;
  const first = '91310' + String(h).padStart(12, '0');
  const chars = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += chars.indexOf(first[i]) * weights[i];
  return first + chars[(31 - (sum % 31)) % 31];
}

export const rows = [
  // Zones
  { method: 'GET', path: () => '/api/v1/zones', expect: PUBLIC },
  { method: 'GET', path: () => '/api/v1/zones/zhangjiang', expect: PUBLIC },
  { method: 'GET', path: () => '/api/v1/zones/nowhere', expect: { default: 404 } },
  {
    method: 'POST', path: () => '/api/v1/zones',
    body: (ids, u) => ({ code: `z${u}`, name_zh: `片区${u}`, name_en: `Zone ${u}` }),
    expect: ADMIN(201),
  },
  {
    method: 'PATCH', path: () => '/api/v1/zones/zhangjiang',
    body: { name_zh: '张江科学城' }, expect: ADMIN(200),
  },

  // Institutions
  { method: 'GET', path: () => '/api/v1/orgs', expect: PUBLIC },
  { method: 'GET', path: (ids) => `/api/v1/orgs/${ids.orgA}`, expect: PUBLIC },
  { method: 'GET', path: (ids) => `/api/v1/orgs/${ids.orgB}`, expect: PUBLIC },
  { method: 'GET', path: () => '/api/v1/orgs/999999', expect: { default: 404 } },
  { method: 'POST', path: () => '/api/v1/orgs', body: orgBody, expect: ADMIN(201) },
  { method: 'PATCH', path: (ids) => `/api/v1/orgs/${ids.orgA}`, body: { name_en: 'University A' }, expect: ADMIN(200) },
  { method: 'PATCH', path: (ids) => `/api/v1/orgs/${ids.orgB}`, body: { name_en: 'Institute B' }, expect: ADMIN(200) },

  // Lab groups: visible to admins, the commission and the group's institution.
  { method: 'GET', path: () => '/api/v1/groups', expect: SIGNED_IN(200) },
  {
    method: 'GET', path: (ids) => `/api/v1/groups/${ids.groupA}`,
    expect: { ...SIGNED_IN(200), operator_b: 404 },
  },
  {
    method: 'GET', path: (ids) => `/api/v1/groups/${ids.groupB}`,
    expect: { ...SIGNED_IN(404), operator_b: 200, commission: 200, admin: 200 },
  },
  {
    method: 'POST', path: () => '/api/v1/groups', body: (ids, u) => ({ org_id: ids.orgA, name: `组${u}` }),
    expect: { anon: 401, operator: 201, admin: 201, token_all: 201, default: 403 },
  },
  {
    method: 'POST', path: () => '/api/v1/groups', body: (ids, u) => ({ org_id: ids.orgB, name: `组${u}` }),
    expect: { anon: 401, operator_b: 201, admin: 201, default: 403 },
  },
  {
    method: 'PATCH', path: (ids) => `/api/v1/groups/${ids.groupA2}`, body: { name: '催化课题组' },
    expect: { anon: 401, operator: 200, admin: 200, token_all: 200, operator_b: 404, default: 403 },
  },
  {
    method: 'PATCH', path: (ids) => `/api/v1/groups/${ids.groupB}`, body: { name: '脑科学课题组' },
    expect: { anon: 401, ...SCOPED_403, commission: 403, operator_b: 200, admin: 200, default: 404 },
  },

  // Users: seen by themselves, admins, their institution's operators and their group's PI.
  {
    method: 'GET', path: () => '/api/v1/users',
    expect: { anon: 401, operator: 200, operator_b: 200, admin: 200, token_all: 200, default: 403 },
  },
  {
    method: 'POST', path: () => '/api/v1/users',
    body: (ids, u) => ({
      login: `u${u}`, name: `用户${u}`, email: `u${u}@example.edu.cn`, org_id: ids.orgA,
      roles: ['researcher'], password: 'Matrix-Password-2026',
    }),
    expect: ADMIN(201),
  },
  {
    method: 'GET', path: (ids) => `/api/v1/users/${ids.users.researcher}`,
    expect: { ...SIGNED_IN(200), operator_b: 404, commission: 404 },
  },
  {
    method: 'GET', path: (ids) => `/api/v1/users/${ids.users.researcher_b}`,
    expect: { ...SIGNED_IN(404), operator_b: 200, admin: 200 },
  },
  {
    method: 'GET', path: (ids) => `/api/v1/users/${ids.users.admin}`,
    expect: { ...SIGNED_IN(404), admin: 200 },
  },
  {
    name: 'PATCH own-institution user contact fields',
    method: 'PATCH', path: (ids) => `/api/v1/users/${ids.users.researcher}`, body: { phone: '021-5474 0000' },
    expect: { ...SIGNED_IN(200), pi: 403, operator_b: 404, commission: 404 },
  },
  {
    name: 'PATCH roles (admin only)',
    method: 'PATCH', path: (ids) => `/api/v1/users/${ids.users.researcher}`, body: { roles: ['researcher'] },
    expect: { ...SIGNED_IN(403), operator_b: 404, commission: 404, admin: 200 },
  },
  {
    name: 'PATCH barred_until null: lifting a no-show bar (admin only)',
    method: 'PATCH', path: (ids) => `/api/v1/users/${ids.users.researcher}`, body: { barred_until: null },
    expect: { ...SIGNED_IN(403), operator_b: 404, commission: 404, admin: 200 },
  },
  {
    name: 'PATCH other-institution user',
    method: 'PATCH', path: (ids) => `/api/v1/users/${ids.users.researcher_b}`, body: { phone: '021-5080 0000' },
    expect: { ...SIGNED_IN(404), operator_b: 200, admin: 200 },
  },
  {
    method: 'POST', path: (ids) => `/api/v1/users/${ids.users.spare_a}/disable`,
    expect: { ...SIGNED_IN(404), operator: 403, token_all: 403, admin: 200 },
  },
  {
    method: 'POST', path: (ids) => `/api/v1/users/${ids.users.spare_a}/enable`,
    expect: { ...SIGNED_IN(404), operator: 403, token_all: 403, admin: 200 },
  },
  {
    method: 'POST', path: (ids) => `/api/v1/users/${ids.users.spare_b}/disable`,
    expect: { ...SIGNED_IN(404), operator_b: 403, admin: 200 },
  },
  {
    method: 'POST', path: (ids) => `/api/v1/users/${ids.users.spare_b}/enable`,
    expect: { ...SIGNED_IN(404), operator_b: 403, admin: 200 },
  },
  {
    method: 'POST', path: (ids) => `/api/v1/users/${ids.users.spare_a}/password`,
    body: { new_password: 'Reset-By-Admin-2026' },
    expect: { ...SIGNED_IN(404), operator: 403, token_all: 403, admin: 204 },
  },

  // Passwords: a wrong old password is 400 for every cookie session; tokens may not change it.
  {
    method: 'POST', path: () => '/api/v1/me/password',
    body: { old_password: 'not-the-password-at-all', new_password: 'Another-Password-2026' },
    expect: { ...SIGNED_IN(400), token_all: 403 },
  },

  // API tokens: created from a cookie session only.
  { method: 'GET', path: () => '/api/v1/tokens', expect: SIGNED_IN(200) },
  {
    method: 'POST', path: () => '/api/v1/tokens', body: (ids, u) => ({ name: `t${u}`, scopes: ['stats:read'] }),
    expect: { ...SIGNED_IN(201), token_all: 403 },
  },
  {
    name: "DELETE another user's token (admin's own: 204)",
    method: 'DELETE', path: (ids) => `/api/v1/tokens/${ids.tokens.admin_spare}`,
    expect: { ...SIGNED_IN(404), admin: 204 },
  },
  {
    method: 'GET', path: (ids) => `/api/v1/tokens?user_id=${ids.users.researcher}`,
    expect: { ...SIGNED_IN(403), researcher: 200, admin: 200 },
  },

  // The audit log: admins and the commission.
  {
    method: 'GET', path: () => '/api/v1/audit',
    expect: { anon: 401, admin: 200, commission: 200, default: 403 },
  },

  // Who am I: any credential with scope all.
  { method: 'GET', path: () => '/api/v1/me', expect: SIGNED_IN(200) },

  // Later areas (rows kept here because the scope rules are issue 3's; the areas
  // that add these endpoints move them into their own files and drop `pending`).
  {
    name: 'stats: commission, admin, operators (own), stats:read tokens of those roles',
    method: 'GET', path: () => '/api/v1/stats/summary?from=2026-01-01T00:00:00%2B08:00&to=2026-02-01T00:00:00%2B08:00&group_by=zone',
    expect: {
      anon: 401, researcher: 403, pi: 403, operator: 200, operator_b: 200, commission: 200, admin: 200,
      token_all: 200, token_stats: 200, token_usage: 403, token_researcher_stats: 403,
    },
  },
  {
    name: 'usage:write allows POST /api/v1/usage (400: empty body) and nothing else',
    method: 'POST', path: () => '/api/v1/usage', body: {},
    expect: {
      anon: 401, researcher: 403, pi: 403, operator: 400, operator_b: 400, commission: 403, admin: 400,
      token_all: 400, token_stats: 403, token_usage: 400, token_researcher_stats: 403,
    },
  },
];
