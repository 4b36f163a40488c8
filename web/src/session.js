// Who is signed in: the user from GET /api/v1/me ({id, login, name, org_id,
// group_id, roles: [...]}) or null for anonymous visitors. The shell keeps it
// up to date; pages read it with getUser() / hasRole() (also passed to render as ctx.user).

export const ROLES = ['researcher', 'pi', 'operator', 'commission', 'admin'];

let user = null;
const listeners = new Set();

/** The signed-in user or null. */
export function getUser() { return user; }

/** Replaces the user (null = signed out) and notifies onUserChange listeners. */
export function setUser(next) {
  user = next || null;
  for (const fn of listeners) fn(user);
}

/** Calls fn(user) after every change; returns an unsubscribe function. */
export function onUserChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** True when the signed-in user holds at least one of the roles: hasRole('operator', 'admin'). */
export function hasRole(...roles) {
  if (!user) return false;
  const mine = user.roles || [];
  return roles.flat().some((r) => mine.includes(r));
}

/**
 * Whether the user may open something restricted to `roles`:
 * null = everyone (also anonymous), 'any' = any signed-in user, [..] = one of those roles.
 */
export function allowed(roles, u = user) {
  if (roles === null || roles === undefined) return true;
  if (!u) return false;
  if (roles === 'any') return true;
  return roles.some((r) => (u.roles || []).includes(r));
}
