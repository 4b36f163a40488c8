// Role-matrix rows for statistics (issue 8). Row format:
// tests/http/role-matrix.test.mjs; actors: tests/http/lib/world.mjs.
// Commission and admins read everything; operators their own institution's
// instruments (asking for another institution is 403); a stats:read token
// reads what its user may (the commission's: everything; a researcher's:
// nothing); usage:write tokens read nothing. tests/http/stats.test.mjs checks
// that an operator's figures really are only their institution's.
// The row for GET /api/v1/stats/summary stays in roles/accounts.mjs.

const RANGE = 'from=2026-01-01T00:00:00%2B08:00&to=2027-01-01T00:00:00%2B08:00';
// Every stats reader: commission, admins, operators (token_all acts as operator A).
const READERS = {
  anon: 401, researcher: 403, pi: 403, operator: 200, operator_b: 200, commission: 200, admin: 200,
  token_all: 200, token_stats: 200, token_usage: 403, token_researcher_stats: 403,
};
// Institution B's figures: operator A (and its token) may not ask for them.
const ORG_B = { ...READERS, operator: 403, token_all: 403 };
// The check of the rollups: commission and admins.
const OVERSIGHT = { anon: 401, commission: 200, admin: 200, token_stats: 200, default: 403 };

export const rows = [
  { method: 'GET', path: () => `/api/v1/stats/instruments?${RANGE}`, expect: READERS },
  {
    name: 'GET /api/v1/stats/instruments?org=B: other institutions are 403 for operators',
    method: 'GET', path: (ids) => `/api/v1/stats/instruments?${RANGE}&org=${ids.orgB}`, expect: ORG_B,
  },
  { method: 'GET', path: () => `/api/v1/stats/instruments?${RANGE}&format=csv`, expect: READERS },
  { method: 'GET', path: () => `/api/v1/stats/top?${RANGE}&by=external`, expect: READERS },
  { method: 'GET', path: () => '/api/v1/stats/idle', expect: READERS },
  { method: 'GET', path: () => `/api/v1/stats/summary?${RANGE}&group_by=month`, expect: READERS },
  {
    name: 'GET /api/v1/stats/summary?group_by=org&org=B',
    method: 'GET', path: (ids) => `/api/v1/stats/summary?${RANGE}&group_by=org&org=${ids.orgB}`, expect: ORG_B,
  },
  { method: 'GET', path: () => `/api/v1/stats/flows?${RANGE}`, expect: READERS },
  { method: 'GET', path: () => `/api/v1/stats/bookings?${RANGE}&group_by=class`, expect: READERS },
  { method: 'GET', path: () => '/api/v1/stats/annual-report?year=2026', expect: READERS },
  { method: 'GET', path: () => '/api/v1/stats/annual-report?year=2026&format=xlsx', expect: READERS },
  { method: 'GET', path: () => '/api/v1/stats/verify', expect: OVERSIGHT },
  {
    name: 'GET /api/v1/stats/summary without a range: 400 for readers, 401/403 first for others',
    method: 'GET', path: () => '/api/v1/stats/summary',
    expect: { ...READERS, operator: 400, operator_b: 400, commission: 400, admin: 400, token_all: 400, token_stats: 400 },
  },
];
