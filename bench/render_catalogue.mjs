// First render of the catalogue page (issue 4: under 1 s on loopback in
// headless Chromium), and of an instrument page. The real server on a fresh
// demo database (`yiqi demo`) serves the built UI (web/dist). Each cold run
// launches Chromium with a new, empty profile (no cache, no cookies) and times
// from the start of the navigation to the page's content being visible:
//   - catalogue: <main data-page="/catalogue" aria-busy="false"> holding
//     visible result rows (the first search with facets answered and drawn);
//   - catalogue with a query (#/catalogue?q=质谱);
//   - instrument page: the instrument's detail grid drawn.
// Two clocks: "wall" is measured here around page.goto (what a user waits,
// plus a little driver overhead); "in page" is performance.now() in the page
// when the content was first seen (polled every animation frame), i.e. from
// the navigation start. A warm run (same browser, reload with the cache)
// follows each cold one. Prints median and max per page. A figure, not a test.
// YIQI_BENCH_RENDER_RUNS (default 7) sets the number of cold runs.
import os from 'node:os';
import { join } from 'node:path';
import { ensureWebBuilt, launchBrowser, WEB_DIST } from '../tests/browser/lib/browser.mjs';
import { cli, startServer, tempDir } from '../tests/http/lib/server.mjs';

const RUNS = Number(process.env.YIQI_BENCH_RENDER_RUNS || 7);
const TARGET_MS = 1000;

ensureWebBuilt();
const dir = tempDir('yiqi-bench-render-');
const db = join(dir, 'yiqi.db');
const demo = cli(['demo', '--db', db]);
if (demo.status !== 0) throw new Error(demo.stderr);
const srv = await startServer({ db, dir, web: WEB_DIST, env: { YIQI_QUIET: '1' } });

// Content-visible check, run in the page: performance.now() once the content
// is there and visible, else null.
const visible = (sel) => {
  const el = document.querySelector(sel);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 ? performance.now() : null;
};

try {
  const found = await (await fetch(`${srv.url}/api/v1/instruments?limit=1&q=${encodeURIComponent('显微镜')}`)).json();
  const total = (await (await fetch(`${srv.url}/api/v1/instruments?limit=1`)).json()).total;
  if (!found.items.length) throw new Error('no instrument found in the demo world');
  const pages = [
    ['catalogue (#/catalogue)', '/#/catalogue', 'main[data-page="/catalogue"][aria-busy="false"] ol.results li.result'],
    ['catalogue search (#/catalogue?q=质谱)', `/#/catalogue?q=${encodeURIComponent('质谱')}`,
      'main[data-page="/catalogue"][aria-busy="false"] ol.results li.result'],
    ['instrument page (#/instruments/ID)', `/#/instruments/${found.items[0].id}`,
      'main[data-page="/instruments/:id"][aria-busy="false"] .instrument-grid'],
  ];
  console.log(`machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`demo world: ${total} public instruments; ${RUNS} cold runs per page (fresh Chromium profile each)`);
  const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor((s.length - 1) / 2)]; };
  const max = (a) => Math.max(...a);
  let worst = 0;
  for (const [label, path, sel] of pages) {
    const cold = { wall: [], inPage: [] }, warm = { wall: [], inPage: [] };
    for (let run = 0; run < RUNS; run++) {
      const browser = await launchBrowser();
      try {
        const page = browser.context.pages()[0] || await browser.context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        for (const into of [cold, warm]) {
          const t0 = performance.now();
          await page.goto(srv.url + path, { waitUntil: 'commit' });
          const handle = await page.waitForFunction(visible, sel, { polling: 'raf', timeout: 15000 }).catch(async (e) => {
            const state = await page.evaluate(() => {
              const m = document.querySelector('main');
              return `main data-page=${m?.dataset.page} aria-busy=${m?.getAttribute('aria-busy')}: ${document.body.innerText.slice(0, 200)}`;
            }).catch(() => '?');
            throw new Error(`${label}: content not visible in 15 s (${state}); is web/dist being rebuilt?`, { cause: e });
          });
          const t1 = performance.now();
          into.inPage.push(await handle.jsonValue());
          into.wall.push(t1 - t0);
          if (into === cold) await page.goto('about:blank');
        }
        if (errors.length) throw new Error(`${label}: page errors: ${errors.join('; ')}`);
      } finally {
        await browser.close();
      }
    }
    worst = Math.max(worst, max(cold.wall));
    const f = (a) => `median ${med(a).toFixed(0).padStart(4)} ms  max ${max(a).toFixed(0).padStart(4)} ms`;
    console.log(`render ${label}`);
    console.log(`  cold, wall      ${f(cold.wall)}`);
    console.log(`  cold, in page   ${f(cold.inPage)}`);
    console.log(`  warm, in page   ${f(warm.inPage)}   (second load, with the cache)`);
  }
  console.log(`target: first render < ${TARGET_MS} ms (cold, wall, worst of all runs ${worst.toFixed(0)} ms): ${worst < TARGET_MS ? 'met' : 'MISSED'}`);
} finally {
  await srv.stop();
}
