// Answers of group commits leave from the WAL sync thread once their commit is
// on disk (net/conn.c, "held answers"). Against the real binary: pipelined
// writes and reads on one connection are answered in request order, with the
// right bodies; Connection: close after a held answer; clients that vanish
// before their answer (in flight, or closing their side) neither crash the
// server nor lose the bookings they made; and many concurrent clients each get
// exactly their own answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { buildWorld, start, signIn, iso, localMidnight, H, sql, overlappingPairs } from './lib/bookings-world.mjs';

let world, srv, res;

before(async () => {
  world = buildWorld({ extraInstruments: 40 });
  srv = await start(world);
  res = await signIn(srv, 'res');
});
after(async () => {
  await srv.stop();
  rmSync(world.dir, { recursive: true, force: true });
});

const day = localMidnight(3);
const bulk = (i) => world.ids[`bulk${i}`];

function post(body, extra = '') {
  const text = JSON.stringify(body);
  return `POST /api/v1/bookings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nCookie: ${res.cookie}\r\n` +
    `X-CSRF-Token: ${res.csrf}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${extra}\r\n${text}`;
}
const get = (path, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\nCookie: ${res.cookie}\r\n${extra}\r\n`;
const slot = (inst, hour) => ({ instrument_id: inst, start: iso(day + hour * H), end: iso(day + (hour + 1) * H) });

// Responses in a byte stream (a Buffer): [{status, headers, body}], complete ones only.
function parse(buf) {
  const out = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) return out;
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const headers = {};
    for (const l of lines.slice(1)) { const i = l.indexOf(':'); headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim(); }
    const len = Number(headers['content-length'] || 0);
    if (buf.length < end + 4 + len) return out;
    out.push({ status: Number(lines[0].split(' ')[1]), headers, body: buf.subarray(end + 4, end + 4 + len).toString('utf8') });
    at = end + 4 + len;
  }
}

// Sends bytes on one connection; resolves when `n` responses are complete or
// the server closed, with the responses and whether it closed.
function exchange(bytes, n, timeoutMs = 8000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(srv.port, '127.0.0.1');
    let buf = Buffer.alloc(0), closed = false, done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ responses: parse(buf), closed });
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (parse(buf).length >= n && n > 0) setTimeout(finish, 50); // anything extra would show
    });
    sock.on('end', () => { closed = true; finish(); });
    sock.on('close', () => { closed = true; finish(); });
    sock.on('error', (e) => (e.code === 'ECONNRESET' ? finish() : reject(e)));
    sock.on('connect', () => sock.write(bytes));
  });
}

test('pipelined bookings and reads on one connection are answered in order', async () => {
  const a = slot(bulk(0), 10), c = slot(bulk(0), 12);
  const { responses: r } = await exchange(
    post(a) + get('/healthz') + post(a) + post(c) + get(`/api/v1/bookings?instrument_id=${bulk(0)}`), 5);
  assert.deepEqual(r.map((x) => x.status), [201, 200, 409, 201, 200]);
  const first = JSON.parse(r[0].body), second = JSON.parse(r[3].body);
  assert.equal(first.start, a.start);
  assert.equal(second.start, c.start);
  assert.equal(JSON.parse(r[2].body).error.code, 'slot_taken');
  // The list read after the two writes in the same pipeline sees both.
  const listed = JSON.parse(r[4].body).items.map((b) => b.id).sort();
  assert.deepEqual(listed, [first.id, second.id].sort());
  for (const b of [first, second])
    assert.equal(sql(world.db, `SELECT status FROM bookings WHERE id = ${b.id}`), 'confirmed');
});

test('a read pipelined behind a held answer waits for it; a write behind a read is still held', async () => {
  // The read is answered while the booking before it is out with the sync
  // thread, and the next booking is held after it: the order must survive.
  const bytes = [post(slot(bulk(1), 10)), get('/healthz'), post(slot(bulk(1), 11)), get('/healthz'), post(slot(bulk(1), 12))];
  const { responses: r } = await exchange(bytes.join(''), 5);
  assert.deepEqual(r.map((x) => x.status), [201, 200, 201, 200, 201]);
  assert.deepEqual(r.filter((x) => x.status === 201).map((x) => JSON.parse(x.body).start),
    [10, 11, 12].map((h) => iso(day + h * H)));
});

test('Connection: close on a booking: the answer, then the server closes', async () => {
  const { responses: r, closed } = await exchange(post(slot(bulk(2), 10), 'Connection: close\r\n') + get('/healthz'), 1);
  assert.equal(r.length, 1, 'nothing is answered after the closing request');
  assert.equal(r[0].status, 201);
  assert.equal(r[0].headers.connection, 'close');
  assert.ok(closed);
});

test('clients gone before their answer neither crash the server nor lose their bookings', async () => {
  const gone = [];
  for (let i = 0; i < 60; i++) {
    gone.push(new Promise((resolve) => {
      const sock = net.connect(srv.port, '127.0.0.1');
      sock.on('error', () => {});
      sock.on('close', resolve);
      sock.resume(); // reads (and drops) whatever comes, so the server's close is seen
      sock.on('connect', () => {
        sock.write(post(slot(bulk(3 + (i % 20)), 10 + Math.floor(i / 20))));
        if (i % 2) sock.destroy(); // gone at once
        else sock.end(); // half-closed: its side is done
      });
    }));
  }
  await Promise.all(gone);
  const h = await res.get('/healthz');
  assert.equal(h.status, 200);
  // Every request that reached the server was booked (or refused) whole;
  // whatever was booked is in the file, and nothing overlaps.
  await new Promise((r) => setTimeout(r, 300));
  const made = Number(sql(world.db, `SELECT count(*) FROM bookings WHERE instrument_id BETWEEN ${bulk(3)} AND ${bulk(22)}`));
  assert.ok(made <= 60);
  assert.equal(overlappingPairs(world.db), 0);
  // And the server still books normally.
  const ok = await res.post('/api/v1/bookings', slot(bulk(3), 16));
  assert.equal(ok.status, 201);
});

test('64 concurrent clients, 10 pipelined bookings each: every client gets its own answers, in order', async () => {
  const clients = [];
  for (let k = 0; k < 64; k++) {
    const inst = bulk(23 + (k % 16)), base = 6 + Math.floor(k / 16) * 4; // 4 clients per instrument, each its own hour
    const wants = [];
    let bytes = '';
    for (let j = 0; j < 10; j++) {
      const s = { instrument_id: inst, start: iso(day + 86400 * (j + 1) + base * H), end: iso(day + 86400 * (j + 1) + (base + 1) * H) };
      wants.push(s.start);
      bytes += post(s);
    }
    clients.push(exchange(bytes, 10, 15000).then((x) => ({ ...x, wants, inst })));
  }
  const all = await Promise.all(clients);
  let created = 0;
  for (const { responses, wants, inst } of all) {
    assert.equal(responses.length, 10);
    responses.forEach((r, j) => {
      assert.equal(r.status, 201);
      const b = JSON.parse(r.body);
      assert.equal(b.start, wants[j], 'the answer is this request\'s');
      assert.equal(b.instrument_id, inst);
      assert.equal(sql(world.db, `SELECT start FROM bookings WHERE id = ${b.id}`), String(Date.parse(wants[j]) / 1000));
      created++;
    });
  }
  assert.equal(created, 640);
  assert.equal(overlappingPairs(world.db), 0);
});

test('a client that does not read for a while still gets every answer, whole and in order', async () => {
  // Large answers fill the socket before the booking's answer is ready, so it
  // cannot go out from the sync thread at once: the loop must send it after
  // them, and the read behind it after that.
  for (let h = 0; h < 40; h++) await res.post('/api/v1/bookings', slot(bulk(39), h % 24 + 24 * Math.floor(h / 24)));
  const list = get(`/api/v1/bookings?instrument_id=${bulk(39)}&limit=50`);
  const booking = slot(bulk(38), 10);
  const bytes = list.repeat(60) + post(booking) + get('/healthz');
  const r = await new Promise((resolve, reject) => {
    const sock = net.connect(srv.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    sock.pause();
    sock.on('error', reject);
    sock.on('connect', () => {
      sock.write(bytes);
      setTimeout(() => sock.resume(), 700); // the server's writes meet a full socket meanwhile
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (parse(buf).length >= 62) { sock.destroy(); resolve(parse(buf)); }
    });
    setTimeout(() => { sock.destroy(); resolve(parse(buf)); }, 10000);
  });
  assert.equal(r.length, 62);
  for (let i = 0; i < 60; i++) assert.equal(JSON.parse(r[i].body).items.length, 40, `list ${i}`);
  assert.equal(r[60].status, 201);
  assert.equal(JSON.parse(r[60].body).start, booking.start);
  assert.equal(r[61].status, 200);
});
