// Vite build of the Yiqi web UI: web/index.html + web/src/** -> web/dist.
//
// The C server serves web/dist with a Content-Security-Policy that forbids
// inline scripts (default-src 'self'), so the build must emit only external
// module scripts and no data: URLs; the `yiqi-csp-check` plugin below fails the
// build if index.html ever gains an inline <script> or an inline event handler.
// Files under /assets/ carry a content hash and are cached immutably.
//
// Dev: `npx vite --config web/vite.config.mjs` proxies /api, /healthz and
// /metrics to YIQI_API_URL (default http://127.0.0.1:8080, a running `yiqi serve`).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = process.env.YIQI_API_URL || 'http://127.0.0.1:8080';
const proxy = { '/api': api, '/healthz': api, '/metrics': api };
// The same policy as the server, so `vite preview` shows CSP violations too.
const csp = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function cspCheck() {
  return {
    name: 'yiqi-csp-check',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'asset' || !file.fileName.endsWith('.html')) continue;
        const html = String(file.source);
        const scripts = html.match(/<script\b[^>]*>/gi) || [];
        for (const tag of scripts) {
          if (!/\bsrc=/.test(tag)) this.error(`${file.fileName}: inline <script> is forbidden by the CSP: ${tag}`);
        }
        if (/\son[a-z]+\s*=/i.test(html)) this.error(`${file.fileName}: inline event handler attributes are forbidden by the CSP`);
      }
      for (const file of Object.values(bundle)) {
        const text = file.type === 'chunk' ? file.code : String(file.source);
        if (/\.(js|css)$/.test(file.fileName) && /url\(\\?["']?data:/.test(text)) {
          this.warn(`${file.fileName}: a url(data:...) will be blocked by the CSP (img-src/font-src 'self')`);
        }
      }
    },
  };
}

// FullCalendar injects its CSS at runtime with its icon font as a data: URL, which the CSP
// (font-src falls back to 'self') blocks: the arrows vanish and Chromium logs an error. At build
// time this moves the font into a real file under /assets/ and points the CSS at it.
function dataFontsToFiles() {
  const re = /data:application\/x-font-ttf;charset=utf-8;base64,([A-Za-z0-9+/=]+)/g;
  return {
    name: 'yiqi-data-fonts-to-files',
    apply: 'build',
    transform(code, id) {
      if (!id.includes('@fullcalendar') || !code.includes('data:application/x-font-ttf')) return null;
      const out = code.replace(re, (_m, b64) => {
        const source = Buffer.from(b64, 'base64');
        const fileName = `assets/fcicons-${createHash('sha256').update(source).digest('hex').slice(0, 10)}.ttf`;
        this.emitFile({ type: 'asset', fileName, source });
        return `/${fileName}`;
      });
      return { code: out, map: null };
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  plugins: [dataFontsToFiles(), cspCheck()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0, // no data: URLs (img-src/font-src are 'self' only)
    modulePreload: { polyfill: false }, // Chromium/Firefox/Safari support modulepreload natively
    target: 'es2022',
    chunkSizeWarningLimit: 1200, // echarts is large; pages import it lazily
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1', proxy },
  preview: { host: '127.0.0.1', proxy, headers: { 'Content-Security-Policy': csp } },
});
