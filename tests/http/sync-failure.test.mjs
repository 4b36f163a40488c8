// A failed fdatasync of the WAL (db/batch.h, cli/serve.c): the write whose
// commit it should have made durable is never answered 201, the server stops
// at once (a later fdatasync could succeed over pages the kernel dropped), and
// the database file is sound when it starts again, with every booking that was
// answered 201. fdatasync is made to fail by a small LD_PRELOAD library built
// here, while a flag file exists; everything else is the real binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWorld, start, signIn, iso, localMidnight, H, sql } from './lib/bookings-world.mjs';

const FAIL_FDATASYNC_C = `
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
int fdatasync(int fd) {
    const char *flag = getenv("YIQI_TEST_FAIL_FDATASYNC");
    if (flag && access(flag, F_OK) == 0) {
        errno = EIO;
        return -1;
    }
    return (int)syscall(SYS_fdatasync, fd);
}
`;

test('a failed WAL fdatasync: no 201, the server stops, the file is sound and keeps every answered booking', {
  skip: process.env.YIQI_ASAN ? 'an LD_PRELOAD library cannot come before the sanitizer runtime' : false,
}, async () => {
  const world = buildWorld({ extraInstruments: 4 });
  try {
    writeFileSync(join(world.dir, 'fail_fdatasync.c'), FAIL_FDATASYNC_C);
    const so = join(world.dir, 'fail_fdatasync.so');
    execFileSync('cc', ['-shared', '-fPIC', '-O1', '-o', so, join(world.dir, 'fail_fdatasync.c')]);
    const flag = join(world.dir, 'fail-now');
    const srv = await start(world, { env: { LD_PRELOAD: so, YIQI_TEST_FAIL_FDATASYNC: flag } });
    const res = await signIn(srv, 'res');
    const day = localMidnight(2);
    const slot = (i, hour) => ({ instrument_id: world.ids[`bulk${i}`], start: iso(day + hour * H), end: iso(day + (hour + 1) * H) });

    const ok = [];
    for (let i = 0; i < 3; i++) {
      const r = await res.req('POST', '/api/v1/bookings', slot(i, 10));
      assert.equal(r.status, 201, r.text);
      ok.push(r.body.id);
    }

    writeFileSync(flag, '');
    let answered = null;
    try {
      const r = await res.req('POST', '/api/v1/bookings', slot(3, 10));
      answered = r.status;
    } catch {
      // the connection closed unanswered: what the client must see
    }
    assert.notEqual(answered, 201, 'a booking whose fdatasync failed was answered 201');
    const exit = await Promise.race([srv.exited, new Promise((r) => setTimeout(() => r(null), 10000))]);
    if (!exit)
      await srv.stop('SIGKILL');
    assert.ok(exit, 'the server went on after a failed fdatasync');
    assert.notEqual(exit.code, 0, JSON.stringify(exit));
    assert.match(srv.stderr(), /fdatasync/);
    assert.match(srv.stderr(), /stopping/);

    rmSync(flag);
    assert.equal(sql(world.db, 'PRAGMA integrity_check'), 'ok');
    const again = await start(world);
    try {
      const c = await signIn(again, 'res');
      for (const id of ok) {
        const r = await c.req('GET', `/api/v1/bookings/${id}`);
        assert.equal(r.status, 200, `booking ${id}, answered 201, is gone`);
      }
      // The server works again: a new booking on the same slot as the
      // unanswered one is either taken by it (it reached the disk after all)
      // or booked now, never both.
      const r = await c.req('POST', '/api/v1/bookings', slot(3, 10));
      assert.ok([201, 409].includes(r.status), r.text);
      assert.equal(Number(sql(world.db, `SELECT count(*) FROM bookings WHERE instrument_id = ${world.ids.bulk3}
        AND status IN ('pending', 'confirmed') AND start = ${day + 10 * H}`)), 1);
    } finally {
      await again.stop();
    }
  } finally {
    rmSync(world.dir, { recursive: true, force: true });
  }
});
