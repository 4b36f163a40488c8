// Role-matrix rows for the catalogue (issue 4). Row format:
// tests/http/role-matrix.test.mjs; actors: tests/http/lib/world.mjs. The world
// holds no instruments, so rows on one use an id that does not exist (404
// after the role and scope checks). Reading is public: a token without the
// "all" scope reads as an anonymous caller does (tests/http/catalogue.test.mjs
// checks that it sees no internal instrument); changes need an operator or
// admin with a session or an "all" token.

const NONE = 999999;
const SCOPED_403 = { token_stats: 403, token_usage: 403, token_researcher_stats: 403 };
// Operators (token_all is operator A's) and admins get past the checks; the rest are refused.
const EDITORS = (status) => ({
  anon: 401, researcher: 403, pi: 403, commission: 403, ...SCOPED_403,
  operator: status, operator_b: status, admin: status, token_all: status,
});

export const rows = [
  { method: 'GET', path: () => '/api/v1/classes', expect: { default: 200 } },
  { method: 'GET', path: () => '/api/v1/instruments', expect: { default: 200 } },
  { method: 'GET', path: () => `/api/v1/instruments/${NONE}`, expect: { default: 404 } },
  { method: 'GET', path: () => '/api/v1/instruments/export.csv', expect: { default: 200 } },
  { method: 'GET', path: () => '/api/v1/instruments/export.json', expect: { default: 200 } },
  { method: 'POST', path: () => '/api/v1/instruments', body: {}, expect: EDITORS(400) },
  { method: 'PATCH', path: () => `/api/v1/instruments/${NONE}`, body: {}, expect: EDITORS(404) },
  { method: 'POST', path: () => `/api/v1/instruments/${NONE}/retire`, expect: EDITORS(404) },
  // The body is JSON, not CSV: 415 once the caller may import at all.
  { method: 'POST', path: () => '/api/v1/instruments/import', body: {}, expect: EDITORS(415) },
];
