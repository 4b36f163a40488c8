// Browser-test harness: the REAL yiqi binary (tests/http/lib/server.mjs) serving
// the built UI (web/dist), driven by playwright-core with Debian's chromium.
//
//   const app = await startApp();              // server on an ephemeral port + headless chromium
//   app.addUser({login, name, roles, org});    // `yiqi user add` on the live database
//   await app.run('my test', async (page) => { // fresh page, cookies and storage cleared;
//     await page.goto(app.url + '/#/catalogue'); //   on failure a screenshot lands in test-results/
//     await signIn(page, login, password);
//     app.assertClean(page);                   // no console errors, page errors or failed requests
//   });
//   await app.close();
//
// Pages tell the harness they are ready: the shell sets <main data-page="/pattern" aria-busy="false">
// (waitForPage). Expected API 4xx answers are not problems; 5xx answers, failed requests, missing
// static files, uncaught exceptions and console errors (CSP violations included) are.
import { mkdirSync, existsSync, rmSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { ROOT, startServer, addUser as cliAddUser } from '../../http/lib/server.mjs';

export { ROOT };
export const WEB_DIST = join(ROOT, 'web/dist');
export const RESULTS_DIR = join(ROOT, 'test-results');
export const CHROMIUM = process.env.YIQI_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic',
];

/** Builds web/dist when it is missing (make test builds it first anyway). */
export function ensureWebBuilt() {
  if (existsSync(join(WEB_DIST, 'index.html'))) return;
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`web build failed:\n${r.stdout}\n${r.stderr}`);
}

/**
 * Launches headless chromium with a fresh temporary profile.
 * Returns {context, dir, close()}; opts: viewport, locale, timezoneId.
 */
export async function launchBrowser(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'yiqi-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport || { width: 1280, height: 800 },
    locale: opts.locale || 'zh-CN',
    timezoneId: opts.timezoneId || 'Asia/Shanghai',
  });
  context.setDefaultTimeout(opts.timeout || 10000);
  return {
    context, dir,
    async close() {
      await context.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function safeName(s) {
  return String(s).replace(/[^\w.-]+/g, '_').slice(0, 80);
}

/** Saves a full-page screenshot as test-results/<name>.png; returns the path. */
export async function screenshot(page, name) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${safeName(name)}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Records console errors, page errors, failed requests and bad responses of a page. */
function watch(page) {
  const problems = { console: [], pageErrors: [], failedRequests: [], badResponses: [] };
  const ignored = (url) => new URL(url).pathname === '/favicon.ico'; // the browser's own guess, not the app's
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    const url = (msg.location() && msg.location().url) || '';
    // Chromium logs every non-2xx fetch; API 4xx answers are normal app flow (tracked below).
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(text) && (url.includes('/api/') || ignored(url))) return;
    problems.console.push(url ? `${text} (${url})` : text);
  });
  page.on('pageerror', (err) => problems.pageErrors.push(String(err && err.stack ? err.stack : err)));
  page.on('requestfailed', (req) => {
    const failure = req.failure() ? req.failure().errorText : 'failed';
    if (failure === 'net::ERR_ABORTED') return; // navigations and reloads cancel requests in flight
    problems.failedRequests.push(`${req.method()} ${req.url()}: ${failure}`);
  });
  page.on('response', (res) => {
    const s = res.status();
    if (ignored(res.url())) return;
    const isApi = new URL(res.url()).pathname.startsWith('/api/');
    if (s >= 500 || (s >= 400 && !isApi)) problems.badResponses.push(`${res.request().method()} ${res.url()}: ${s}`);
  });
  return problems;
}

/**
 * Starts the app: the real server on a fresh database serving web/dist, and chromium.
 * opts: {server: {...startServer options}, viewport, locale}. Returns the app object (see top).
 */
export async function startApp(opts = {}) {
  ensureWebBuilt();
  const server = await startServer({ web: WEB_DIST, ...(opts.server || {}) });
  let browser;
  try {
    browser = await launchBrowser(opts);
  } catch (err) {
    await server.stop();
    throw err;
  }
  const { context } = browser;
  const watched = new WeakMap();
  const app = {
    server, context, url: server.url, db: server.db,

    /** Creates a user with the CLI; returns {login, password}. */
    addUser(user) { return cliAddUser(server.db, user); },

    /** A new page with problem collectors attached. */
    async newPage() {
      const page = await context.newPage();
      watched.set(page, watch(page));
      return page;
    },

    /** What went wrong on a page so far: {console, pageErrors, failedRequests, badResponses}. */
    problems(page) { return watched.get(page); },

    /** Asserts nothing went wrong on the page; allow: regexes of tolerated messages. */
    assertClean(page, { allow = [] } = {}) {
      const p = watched.get(page);
      const all = [...p.console, ...p.pageErrors, ...p.failedRequests, ...p.badResponses].filter((m) => !allow.some((re) => re.test(m)));
      assert.deepEqual(all, [], `browser problems:\n${all.join('\n')}`);
    },

    /** Clears cookies and both storages so a test starts as a new visitor. */
    async resetState(page) {
      await context.clearCookies();
      await page.goto(`${server.url}/healthz`);
      await page.evaluate(() => { localStorage.clear(); sessionStorage.clear(); });
    },

    /**
     * Runs fn(page) on a fresh page (state reset unless {reset: false}); on failure saves
     * test-results/<name>.png and prints the page's problems, then rethrows. Always closes the page.
     */
    async run(name, fn, { reset = true } = {}) {
      const page = await app.newPage();
      rmSync(join(RESULTS_DIR, `FAILED-${safeName(name)}.png`), { force: true });
      try {
        if (reset) await app.resetState(page);
        return await fn(page);
      } catch (err) {
        const path = await screenshot(page, `FAILED-${name}`).catch(() => null);
        const p = watched.get(page);
        console.error(`# ${name} failed; screenshot: ${path}\n# page problems: ${JSON.stringify(p, null, 1)}`);
        throw err;
      } finally {
        await page.close().catch(() => {});
      }
    },

    /** Stops chromium and the server and removes their temporary files. */
    async close() {
      await browser.close();
      await server.stop();
    },
  };
  return app;
}

/** Waits until the shell has rendered the page registered under pattern (e.g. '/', '/signin', '/instruments/:id'). */
export async function waitForPage(page, pattern, { timeout } = {}) {
  await page.locator(`main[data-page="${pattern}"][aria-busy="false"]`).waitFor({ timeout });
}

/** Opens #<path> in the app and waits for the page pattern (default: path itself). */
export async function openPage(page, baseUrl, path, pattern = path.split('?')[0]) {
  await page.goto(`${baseUrl}/#${path}`);
  await waitForPage(page, pattern);
}

// Labels of required fields end in " *" (formRow); match them with or without it.
const LOGIN_LABEL = /^(用户名|Login)( \*)?$/;
const PASSWORD_LABEL = /^(密码|Password)( \*)?$/;
const SUBMIT_NAME = /^(登录|Sign in)$/;

/**
 * Signs in through the UI (the sign-in page, in either language). When the page is not
 * already the sign-in page, opens #/signin. Waits for the header to show the user;
 * throws with the page's error message when sign-in fails (unless expectSuccess is false).
 */
export async function signIn(page, login, password, { expectSuccess = true } = {}) {
  if (!(await page.locator('main[data-page="/signin"]').count())) {
    const base = new URL(page.url()).origin;
    await page.goto(`${base}/#/signin`);
  }
  await waitForPage(page, '/signin');
  await page.getByLabel(LOGIN_LABEL).fill(login);
  await page.getByLabel(PASSWORD_LABEL).fill(password);
  await page.locator('main').getByRole('button', { name: SUBMIT_NAME }).click();
  if (!expectSuccess) {
    await page.locator('main [role="alert"]').waitFor();
    return;
  }
  const done = page.locator('header .user-name');
  const failed = page.locator('main [role="alert"]');
  await done.or(failed).first().waitFor();
  if (await failed.count()) throw new Error(`sign-in failed for ${login}: ${await failed.first().innerText()}`);
  await page.locator('main[aria-busy="false"]:not([data-page="/signin"])').waitFor();
}

/** Signs out with the header button and waits for the sign-in link. */
export async function signOut(page) {
  await page.locator('header').getByRole('button', { name: /^(退出登录|Sign out)$/ }).click();
  await page.locator('header .signin-link').waitFor();
}
