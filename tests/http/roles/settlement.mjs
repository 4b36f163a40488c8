// Role-matrix rows for monthly settlement (issue 7). Row format:
// tests/http/role-matrix.test.mjs; actors: tests/http/lib/world.mjs. The world
// holds no usage, so the statement of PERIOD has no lines: the rows show who
// builds, reads, exports and closes it, and who passes the checks of a line
// action (404 for a line that does not exist) and who does not (401/403).
// tests/http/settlement.test.mjs covers lines of one's own and of other
// institutions in full. Rows run in order: build, rebuild, reads, close, and
// the refusals after closing.

const PERIOD = '2025-01';
const NONE = 999999;
const SCOPED_403 = { token_stats: 403, token_usage: 403, token_researcher_stats: 403 };
// The commission only builds and closes.
const COMMISSION = (status) => ({ anon: 401, commission: status, default: 403 });
// Commission and admins read everything, operators their institution's lines
// (token_all acts as operator A); researchers, PIs and narrow tokens nothing.
const READERS = (status) => ({
  anon: 401, researcher: 403, pi: 403, ...SCOPED_403,
  operator: status, operator_b: status, commission: status, admin: status, token_all: status,
});
// A line action: readers pass to the line (404 here: there is none).
const LINE = READERS(404);

export const rows = [
  {
    name: 'POST /api/v1/settlements: the commission builds a month (201)',
    method: 'POST', path: () => '/api/v1/settlements', body: { period: PERIOD }, expect: COMMISSION(201),
  },
  {
    name: 'POST /api/v1/settlements: building it again rebuilds the draft (200)',
    method: 'POST', path: () => '/api/v1/settlements', body: { period: PERIOD }, expect: COMMISSION(200),
  },
  {
    name: 'POST /api/v1/settlements: malformed period (400)',
    method: 'POST', path: () => '/api/v1/settlements', body: { period: 'January' }, expect: COMMISSION(400),
  },
  { method: 'GET', path: () => '/api/v1/settlements', expect: READERS(200) },
  { method: 'GET', path: () => `/api/v1/settlements/${PERIOD}`, expect: READERS(200) },
  { method: 'GET', path: () => '/api/v1/settlements/2000-01', expect: READERS(404) },
  { method: 'GET', path: () => `/api/v1/settlements/${PERIOD}/export?format=csv`, expect: READERS(200) },
  { method: 'GET', path: () => `/api/v1/settlements/${PERIOD}/export?format=xlsx`, expect: READERS(200) },
  { method: 'POST', path: () => `/api/v1/settlements/${PERIOD}/lines/${NONE}/confirm`, expect: LINE },
  {
    method: 'POST', path: () => `/api/v1/settlements/${PERIOD}/lines/${NONE}/dispute`, body: { reason: 'not ours' },
    expect: LINE,
  },
  { method: 'POST', path: () => '/api/v1/settlements/2000-01/close', expect: COMMISSION(404) },
  {
    name: 'POST /api/v1/settlements/{period}/close: the commission closes the month (200)',
    method: 'POST', path: () => `/api/v1/settlements/${PERIOD}/close`, expect: COMMISSION(200),
  },
  {
    name: 'POST /api/v1/settlements: a closed month is not rebuilt (409 period_closed)',
    method: 'POST', path: () => '/api/v1/settlements', body: { period: PERIOD }, expect: COMMISSION(409),
  },
  {
    name: 'POST /api/v1/settlements/{period}/close: closing it again (409 period_closed)',
    method: 'POST', path: () => `/api/v1/settlements/${PERIOD}/close`, expect: COMMISSION(409),
  },
];
