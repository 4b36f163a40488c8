// The shared fixture of the HTTP tests: a running server with two institutions in
// different zones, lab groups, users of every role and API tokens of every scope,
// all created through the real API as an admin (only the first admin comes from
// `yiqi user add`). Later areas reuse it for their rows of the role matrix
// (tests/http/roles/*.mjs) and for their own tests.
//
//   import { buildWorld, ACTORS } from './lib/world.mjs';
//   const w = await buildWorld();          // options: {server: startServer options}
//   w.clients.operator.post('/api/v1/instruments', {...});
//   w.ids.orgA, w.ids.groupA, w.ids.users.researcher, w.ids.tokens.admin_spare
//   const c = await w.signIn('res_b');     // a new signed-in Client for any login
//   await w.stop();
//
// Everyone signs in with w.password. The world:
//   zones    neobay (org A), zhangjiang (org B)
//   orgs     A: 'UA' 甲大学 university in neobay; B: 'IB' 乙研究所 institute in zhangjiang
//   groups   groupA  (org A, PI = pi, requires_pi_approval: true; researcher and pi are members)
//            groupA2 (org A, no PI, no approval; spare_a is a member)
//            groupB  (org B, PI = pi_b, requires_pi_approval: false; researcher_b, pi_b members)
//   users    key (login)          roles              org  group
//            admin (admin)        admin              -    -
//            commission (com)     commission         -    -
//            operator (op_a)      operator           A    -
//            pi (pi_a)            pi, researcher     A    groupA
//            researcher (res_a)   researcher         A    groupA
//            spare_a (spare_a)    researcher         A    groupA2  (for destructive rows)
//            operator_b (op_b)    operator           B    -
//            pi_b (pi_b)          pi, researcher     B    groupB
//            researcher_b (res_b) researcher         B    groupB
//            spare_b (spare_b)    researcher         B    groupB
//   tokens   token_all (op_a, [all]), token_stats (com, [stats:read]),
//            token_usage (op_a, [usage:write]), token_researcher_stats (res_a, [stats:read]),
//            admin_spare (admin, [all]; for revocation rows, never used as an actor)
import { startServer, addUser, Client } from './server.mjs';

export const PASSWORD = 'World-Fixture-Pass-2026';

// The actors of the role matrix, in the order it walks them. Cookie actors are
// signed-in Clients; token actors send `Authorization: Bearer`; anon sends nothing.
export const ACTORS = [
  'anon', 'researcher', 'pi', 'operator', 'operator_b', 'commission', 'admin',
  'token_all', 'token_stats', 'token_usage', 'token_researcher_stats',
];

const CC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

// Completes 17 characters of a unified social credit code with its GB 32100-2015
// check character.
export function creditCode(first17) {
  if (first17.length !== 17) throw new Error('creditCode needs 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = CC_CHARS.indexOf(first17[i]);
    if (v < 0) throw new Error(`not a credit-code character: ${first17[i]}`);
    sum += v * CC_WEIGHTS[i];
  }
  return first17 + CC_CHARS[(31 - (sum % 31)) % 31];
}

// A valid credit code derived from a number (distinct numbers, distinct codes).
export function creditCodeFor(n) {
  return creditCode('91310' + String(n).padStart(12, '0'));
}

async function must(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.body;
}

const USERS = [
  // key, login, roles, org, group
  ['commission', 'com', ['commission'], null, null],
  ['operator', 'op_a', ['operator'], 'A', null],
  ['pi', 'pi_a', ['pi', 'researcher'], 'A', 'groupA'],
  ['researcher', 'res_a', ['researcher'], 'A', 'groupA'],
  ['spare_a', 'spare_a', ['researcher'], 'A', 'groupA2'],
  ['operator_b', 'op_b', ['operator'], 'B', null],
  ['pi_b', 'pi_b', ['pi', 'researcher'], 'B', 'groupB'],
  ['researcher_b', 'res_b', ['researcher'], 'B', 'groupB'],
  ['spare_b', 'spare_b', ['researcher'], 'B', 'groupB'],
];

const TOKENS = [
  // key, owner, scopes
  ['token_all', 'operator', ['all']],
  ['token_stats', 'commission', ['stats:read']],
  ['token_usage', 'operator', ['usage:write']],
  ['token_researcher_stats', 'researcher', ['stats:read']],
  ['admin_spare', 'admin', ['all']],
];

// Builds the world on a fresh server. opts.server: options for startServer
// (env, args, ...). Returns {srv, url, db, password, ids, orgs, groups, users,
// logins, clients, tokens, signIn(login), client(actor), stop()}.
export async function buildWorld(opts = {}) {
  const srv = await startServer(opts.server || {});
  try {
    return await populate(srv);
  } catch (e) {
    await srv.stop();
    throw e;
  }
}

async function populate(srv) {
  addUser(srv.db, { login: 'admin', name: '系统管理员', roles: ['admin'], password: PASSWORD });
  const admin = new Client(srv.url);
  await admin.signIn('admin', PASSWORD);

  const zones = (await must(await admin.get('/api/v1/zones'), 200, 'zones')).items;
  const zoneId = Object.fromEntries(zones.map((z) => [z.code, z.id]));
  const orgs = {
    A: await must(await admin.post('/api/v1/orgs', {
      code: 'UA', name_zh: '甲大学', name_en: 'University A', zone: 'neobay', kind: 'university',
      credit_code: creditCodeFor(1),
    }), 201, 'org A'),
    B: await must(await admin.post('/api/v1/orgs', {
      code: 'IB', name_zh: '乙研究所', name_en: 'Institute B', zone: 'zhangjiang', kind: 'institute',
      credit_code: creditCodeFor(2),
    }), 201, 'org B'),
  };
  const groups = {};
  for (const [key, org, name] of [['groupA', 'A', '纳米材料课题组'], ['groupA2', 'A', '催化课题组'], ['groupB', 'B', '脑科学课题组']]) {
    groups[key] = await must(await admin.post('/api/v1/groups', { org_id: orgs[org].id, name }), 201, key);
  }
  const users = { admin: (await must(await admin.get('/api/v1/me'), 200, 'me')) };
  const logins = { admin: 'admin' };
  await Promise.all(USERS.map(async ([key, login, roles, org, group]) => {
    const body = { login, name: `${login} 测试`, email: `${login}@example.edu.cn`, roles, password: PASSWORD };
    if (org) body.org_id = orgs[org].id;
    if (group) body.group_id = groups[group].id;
    users[key] = await must(await admin.post('/api/v1/users', body), 201, `user ${login}`);
    logins[key] = login;
  }));
  groups.groupA = await must(await admin.patch(`/api/v1/groups/${groups.groupA.id}`,
    { pi_user_id: users.pi.id, requires_pi_approval: true }), 200, 'groupA PI');
  groups.groupB = await must(await admin.patch(`/api/v1/groups/${groups.groupB.id}`,
    { pi_user_id: users.pi_b.id }), 200, 'groupB PI');

  const clients = { admin, anon: new Client(srv.url) };
  await Promise.all(USERS.map(async ([key, login]) => {
    clients[key] = new Client(srv.url);
    await clients[key].signIn(login, PASSWORD);
  }));
  const tokens = {};
  const tokenIds = {};
  for (const [key, owner, scopes] of TOKENS) {
    const t = await must(await clients[owner].post('/api/v1/tokens', { name: key, scopes }), 201, `token ${key}`);
    tokens[key] = t.token;
    tokenIds[key] = t.id;
    if (key !== 'admin_spare') {
      clients[key] = new Client(srv.url);
      clients[key].bearer = t.token;
    }
  }
  const ids = {
    zones: zoneId,
    orgA: orgs.A.id, orgB: orgs.B.id,
    groupA: groups.groupA.id, groupA2: groups.groupA2.id, groupB: groups.groupB.id,
    users: Object.fromEntries(Object.entries(users).map(([k, u]) => [k, u.id])),
    tokens: tokenIds,
  };
  return {
    srv, url: srv.url, db: srv.db, password: PASSWORD, ids, orgs, groups, users, logins, clients, tokens,
    async signIn(login) {
      const c = new Client(srv.url);
      await c.signIn(login, PASSWORD);
      return c;
    },
    client(actor) { return clients[actor]; },
    stop: () => srv.stop(),
  };
}
