// Role-matrix rows for usage records and vouchers (issue 6). Row format:
// tests/http/role-matrix.test.mjs; actors: tests/http/lib/world.mjs. The world
// holds no instruments or usage records, so rows on a record use an id that
// does not exist: they show who passes the role and scope checks (404) and who
// does not (401/403). tests/http/usage.test.mjs covers own and other
// institutions' records and the read rules in full. The row for POST
// /api/v1/usage with an empty body stays in roles/accounts.mjs.

const NONE = 999999;
const SCOPED_403 = { token_stats: 403, token_usage: 403, token_researcher_stats: 403 };
const SIGNED_IN = (status) => ({ anon: 401, ...SCOPED_403, default: status });
// Operators and admins (token_all acts as operator A) record and correct.
const STAFF = (status) => ({
  anon: 401, researcher: 403, pi: 403, commission: 403, ...SCOPED_403,
  operator: status, operator_b: status, admin: status, token_all: status,
});
// Commission and admins read the ledger's checks and vouchers.
const OVERSIGHT = (status) => ({ anon: 401, commission: status, admin: status, default: 403 });
// Only the commission issues and tops up vouchers.
const COMMISSION = (status) => ({ anon: 401, commission: status, default: 403 });
const day = () => new Date(Date.now() - 2 * 86400000).toISOString().slice(0, 10);

export const rows = [
  {
    name: 'POST /api/v1/usage: operators, admins and usage:write tokens pass to the instrument (404)',
    method: 'POST', path: () => '/api/v1/usage',
    body: (ids) => ({ instrument_id: NONE, user_id: ids.users.researcher, start: `${day()}T09:00:00+08:00`, end: `${day()}T10:00:00+08:00` }),
    expect: { ...STAFF(404), token_usage: 404 },
  },
  { method: 'GET', path: () => '/api/v1/usage', expect: SIGNED_IN(200) },
  { method: 'GET', path: () => '/api/v1/usage?mine=1&period=2026-11', expect: SIGNED_IN(200) },
  { method: 'GET', path: () => '/api/v1/usage/summary?group_by=period', expect: SIGNED_IN(200) },
  { method: 'GET', path: () => `/api/v1/usage/${NONE}`, expect: SIGNED_IN(404) },
  {
    method: 'POST', path: () => `/api/v1/usage/${NONE}/correct`, body: { void: true, reason: 'wrong instrument' },
    expect: STAFF(404),
  },
  { method: 'GET', path: () => '/api/v1/usage/verify', expect: OVERSIGHT(200) },
  { method: 'GET', path: () => '/api/v1/usage/checkpoint', expect: OVERSIGHT(200) },

  { name: 'POST /api/v1/vouchers: commission only (400: empty body)', method: 'POST', path: () => '/api/v1/vouchers', body: {}, expect: COMMISSION(400) },
  {
    name: 'POST /api/v1/vouchers: a university holds no voucher (400 not_enterprise)',
    method: 'POST', path: () => '/api/v1/vouchers', body: (ids) => ({ org_id: ids.orgA, year: 2026, amount_fen: 100000 }),
    expect: COMMISSION(400),
  },
  { method: 'GET', path: () => '/api/v1/vouchers', expect: OVERSIGHT(200) },
  { method: 'GET', path: () => `/api/v1/vouchers/${NONE}`, expect: OVERSIGHT(404) },
  { method: 'GET', path: () => `/api/v1/vouchers/${NONE}/events`, expect: OVERSIGHT(404) },
  { method: 'POST', path: () => `/api/v1/vouchers/${NONE}/top_up`, body: { amount_fen: 100 }, expect: COMMISSION(404) },
];
