// Role-matrix rows for bookings (issue 5): bookings, notifications, the calendar
// feed and availability. Row format: tests/http/role-matrix.test.mjs; actors:
// tests/http/lib/world.mjs. The world holds no instruments, so the rows that
// need one use an id that does not exist (404 after the role and scope checks);
// tests/http/bookings.test.mjs covers own/other instruments and bookings in full.

const SCOPED_403 = { token_stats: 403, token_usage: 403, token_researcher_stats: 403 };
const SIGNED_IN = (status) => ({ anon: 401, ...SCOPED_403, default: status });
const NONE = 999999;
const week = () => {
  const from = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  const to = new Date(Date.now() + 8 * 86400000).toISOString().slice(0, 10);
  return `from=${from}T00:00:00%2B08:00&to=${to}T00:00:00%2B08:00`;
};
const bookingBody = () => {
  const day = new Date(Date.now() + 3 * 86400000).toISOString().slice(0, 10);
  return { instrument_id: NONE, start: `${day}T10:00:00+08:00`, end: `${day}T11:00:00+08:00` };
};

export const rows = [
  // Booking needs the researcher or PI role; then the instrument must exist and be visible.
  {
    method: 'POST', path: () => '/api/v1/bookings', body: bookingBody,
    expect: { anon: 401, researcher: 404, pi: 404, ...SCOPED_403, default: 403 },
  },
  { method: 'GET', path: () => '/api/v1/bookings', expect: SIGNED_IN(200) },
  { method: 'GET', path: () => '/api/v1/bookings?mine=1&status=confirmed', expect: SIGNED_IN(200) },
  { method: 'GET', path: () => '/api/v1/bookings?approvable=1', expect: SIGNED_IN(200) },
  { method: 'GET', path: () => `/api/v1/bookings/${NONE}`, expect: SIGNED_IN(404) },
  { method: 'POST', path: () => `/api/v1/bookings/${NONE}/cancel`, body: {}, expect: SIGNED_IN(404) },
  { method: 'POST', path: () => `/api/v1/bookings/${NONE}/approve`, body: {}, expect: SIGNED_IN(404) },
  { method: 'POST', path: () => `/api/v1/bookings/${NONE}/reject`, body: {}, expect: SIGNED_IN(404) },
  { method: 'POST', path: () => `/api/v1/bookings/${NONE}/checkin`, body: {}, expect: SIGNED_IN(404) },
  { method: 'POST', path: () => `/api/v1/bookings/${NONE}/checkout`, body: {}, expect: SIGNED_IN(404) },

  // Blocks and training records: staff of the owner only; unknown instrument 404 for all.
  {
    method: 'POST', path: () => `/api/v1/instruments/${NONE}/blocks`,
    body: () => ({ ...bookingBody(), reason: 'service' }), expect: SIGNED_IN(404),
  },
  { method: 'GET', path: () => `/api/v1/instruments/${NONE}/blocks`, expect: { default: 404 } },
  {
    method: 'POST', path: () => `/api/v1/instruments/${NONE}/qualifications`,
    body: { user_id: 1, expires: '2099-01-01' }, expect: SIGNED_IN(404),
  },
  { method: 'GET', path: () => `/api/v1/instruments/${NONE}/qualifications`, expect: SIGNED_IN(404) },

  // Availability is public for visible instruments; the search is public.
  { method: 'GET', path: () => `/api/v1/instruments/${NONE}/availability?${week()}`, expect: { default: 404 } },
  { method: 'GET', path: () => '/api/v1/availability/search?minutes=60', expect: { default: 200 } },

  // Notifications and the calendar feed: one's own, any signed-in caller.
  { method: 'GET', path: () => '/api/v1/notifications', expect: SIGNED_IN(200) },
  { method: 'POST', path: () => '/api/v1/notifications/read', body: { all: true }, expect: SIGNED_IN(200) },
  { method: 'GET', path: () => '/api/v1/me/calendar-feed', expect: SIGNED_IN(200) },
  { method: 'POST', path: () => '/api/v1/me/calendar-feed', expect: SIGNED_IN(201) },
  { method: 'DELETE', path: () => '/api/v1/me/calendar-feed', expect: SIGNED_IN(204) },
  { method: 'GET', path: () => '/api/v1/calendar/not-a-token.ics', expect: { default: 404 } },
];
