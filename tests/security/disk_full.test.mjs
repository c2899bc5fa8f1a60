// disk_full.test.mjs - signald on a data directory whose filesystem fills up:
// sends fail with a clear error instead of a crash or a silent loss, what was
// stored before stays readable, and once there is space again sending works.
// Needs root (it mounts a small tmpfs); exits 77 (skipped) otherwise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Server, PORT_BASE } from '../protocol/lib.mjs';

if (process.getuid() !== 0) {
  console.log('SKIP: mounting a small filesystem needs root');
  process.exit(77);
}

const srv = new Server('diskfull', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, users: ['alice', 'bob'],
  config: 'rate_per_second = 10000; rate_burst = 100000;' });
const mnt = join(srv.dir, 'small');
let mounted = false;

after(async () => {
  if (srv.proc) await srv.stop();
  if (mounted) execFileSync('umount', [mnt]);
  srv.cleanup();
});

test('a full disk gives clear errors, keeps what was stored, and recovers when space returns', async () => {
  // The users exist in the normal data dir; move it onto a 3 MB tmpfs.
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]);
  mounted = true;
  cpSync(srv.data, join(mnt, 'data'), { recursive: true });
  rmSync(srv.data, { recursive: true });
  srv.data = join(mnt, 'data');
  await srv.start();
  const [a, b] = await Promise.all(['alice', 'bob'].map((u) => srv.login(u)));
  const alice = await srv.connect(a);
  const { room } = await alice.request('room.create', { name: 'full', members: [b.user.id] });
  const body = 'x'.repeat(60000);
  const stored = [];
  let refused = null;
  for (let i = 0; i < 200 && !refused; i++) { // 200 x 60 KB is far more than 3 MB
    try {
      stored.push((await alice.request('message.send', { room: room.id, body: `${i} ${body}` })).message.id);
    } catch (e) {
      refused = e;
    }
  }
  assert.ok(refused, 'the disk filled up');
  assert.equal(refused.code, 'unavailable', refused.message);
  assert.ok(stored.length > 0, 'some messages were stored first');
  assert.ok((await alice.request('ping')).now > 0, 'the connection and the server are still up');

  // Everything acknowledged is still there and readable, by another device too.
  const bob = await srv.connect(b);
  let seen = 0, before = 0;
  for (let page = 0; page < 100; page++) {
    const h = await bob.request('message.history', { room: room.id, limit: 50, ...(before ? { before } : {}) });
    seen += h.messages.filter((m) => stored.includes(m.id)).length;
    if (!h.more) break;
    before = h.messages[h.messages.length - 1].id;
  }
  assert.equal(seen, stored.length, 'every acknowledged message is readable');

  // Space returns: sending works again without a restart.
  execFileSync('mount', ['-o', 'remount,size=64m', mnt]);
  const again = await alice.request('message.send', { room: room.id, body: 'after space returned' });
  assert.ok(again.message.id > Math.max(...stored));
  console.log(`stored=${stored.length} refused="${refused.message}"`);
  await alice.close();
  await bob.close();
  await srv.stop();
  // The database is intact after all this.
  const check = execFileSync('sqlite3', [join(srv.data, 'lanturn.db'), 'PRAGMA integrity_check;']).toString().trim();
  assert.equal(check, 'ok');
});
