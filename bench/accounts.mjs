// Sign-in cost and loop responsiveness (issue 3). Prints figures; asserts nothing.
//  1. sequential sign-ins: latency of one Argon2id verify plus the session write;
//  2. 32 concurrent sign-ins: throughput of the thread pool (UV_THREADPOOL_SIZE, default 4);
//  3. GET /api/v1/me from a signed-in client, sequentially, while (2) runs: p50/p99,
//     which would be hundreds of ms if hashing ran on the event loop.
import { startServer, addUser, Client } from '../tests/http/lib/server.mjs';

const PW = 'Bench-Accounts-Pass-2026';
const srv = await startServer({ env: { YIQI_QUIET: '1' } });
const pct = (a, p) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))];
try {
  addUser(srv.db, { login: 'bench', roles: ['admin'], password: PW });
  const me = new Client(srv.url);
  await me.signIn('bench', PW);

  const seq = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await new Client(srv.url).signIn('bench', PW);
    seq.push(performance.now() - t0);
  }
  console.log(`sign-in, sequential: p50 ${pct(seq, 0.5).toFixed(0)} ms, max ${Math.max(...seq).toFixed(0)} ms`);

  const N = 32;
  let running = true;
  const meTimes = [];
  const prober = (async () => {
    while (running) {
      const t0 = performance.now();
      await me.get('/api/v1/me');
      meTimes.push(performance.now() - t0);
    }
  })();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: N }, () => new Client(srv.url).signIn('bench', PW)));
  const wall = performance.now() - t0;
  running = false;
  await prober;
  console.log(`sign-in, ${N} concurrent: ${wall.toFixed(0)} ms in all, ${(N / (wall / 1000)).toFixed(1)} sign-ins/s`);
  console.log(`GET /api/v1/me meanwhile: ${meTimes.length} requests, p50 ${pct(meTimes, 0.5).toFixed(1)} ms, p99 ${pct(meTimes, 0.99).toFixed(1)} ms`);
} finally {
  await srv.stop();
}
