// Opens N keep-alive connections to yiqi, sends one request on each, leaves
// them idle and prints the server's resident memory (issue 2 figure).
// usage: node bench/idle_conns.mjs PORT N PID
import net from 'node:net';
import { readFileSync } from 'node:fs';

const [port, n, pid] = process.argv.slice(2).map(Number);
const rss = () => (Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024).toFixed(1);
const socks = [];
let answered = 0;
await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
  const s = net.connect(port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n'));
  s.once('data', () => { answered++; resolve(); });
  s.on('error', reject);
  socks.push(s);
})));
await new Promise((r) => setTimeout(r, 500));
console.log(`RSS with ${answered} idle keep-alive connections: ${rss()} MiB`);
for (const s of socks) s.destroy();
