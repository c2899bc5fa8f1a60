// fd_limit.test.mjs - signald at its descriptor limit (started with a soft
// limit of 48 and a hard one of 64). It raises the soft limit to the hard one;
// past its WebSocket cap it refuses upgrades with 1013 while logins and the
// open connections go on; it closes at once TCP connections that would eat the
// reserve kept for its database and files; and when accept() fails with
// EMFILE it stops polling the listener for a while instead of retrying at
// once: a few log lines and next to no CPU over 3 s at the limit, and new
// connections get in again once descriptors are free.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { Server, PORT_BASE, sleep } from './lib.mjs';

const srv = new Server('fdlimit', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1 });
const TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString());
let budget; // what signald logged at start
let alice;
const clients = [];

// utime + stime of a process, in seconds (/proc/PID/stat fields 14 and 15).
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TCK;
}

function logCount(re) { return (srv.logText().match(re) || []).length; }

// Raw TCP connections to port; each records whether the server closed it.
function rawConnections(port, n) {
  return Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
    const s = net.createConnection({ host: '127.0.0.1', port });
    s.closedByServer = false;
    s.on('end', () => { s.closedByServer = true; });
    s.on('close', () => { s.closedByServer = true; });
    s.on('error', () => { s.closedByServer = true; });
    s.on('connect', () => resolve(s));
  })));
}

before(async () => {
  const wrapper = join(srv.dir, 'prlimit.sh');
  writeFileSync(wrapper, '#!/bin/sh\nexec prlimit --nofile=48:64 "$@"\n');
  chmodSync(wrapper, 0o755);
  process.env.SIGNALD_WRAPPER = wrapper;
  await srv.start();
  delete process.env.SIGNALD_WRAPPER;
  const m = srv.logText().match(
    /event=fd_limit nofile=(\d+) was=(\d+) in_use=(\d+) accept_cap=(\d+) max_connections=\d+ ws_cap=(\d+)/);
  assert.ok(m, `no fd_limit line:\n${srv.logText()}`);
  const [nofile, was, inUse, acceptCap, wsCap] = m.slice(1).map(Number);
  budget = { nofile, was, inUse, acceptCap, wsCap };
  alice = await srv.login('alice');
});

after(async () => {
  for (const c of clients) c.ws.terminate();
  assert.equal((await srv.stop()).code, 0, srv.logText());
  srv.cleanup();
});

test('the soft descriptor limit is raised to the hard one, and the caps sit below it', { timeout: 60000 }, () => {
  assert.equal(budget.was, 48);
  assert.equal(budget.nofile, 64);
  assert.ok(budget.acceptCap < budget.nofile, JSON.stringify(budget));
  assert.ok(budget.wsCap > 0 && budget.inUse + budget.wsCap < budget.acceptCap, JSON.stringify(budget));
});

test('past the WebSocket cap an upgrade is refused with 1013; logins and open connections go on', { timeout: 60000 }, async () => {
  for (let i = 0; i < budget.wsCap; i++) clients.push(await srv.connect(alice));
  const refused = [];
  for (let i = 0; i < 10; i++) {
    const c = await srv.connect(alice, { hello: false });
    refused.push(await c.closedPromise);
  }
  for (const r of refused) assert.deepEqual(r, { code: 1013, reason: 'server full; try again later' });
  const lines = logCount(/event=conn_refused reason=ws_cap/);
  assert.ok(lines >= 1 && lines <= 3, `10 refusals in a burst, ${lines} log lines`);
  const bob = await srv.login('bob'); // the room kept for logins
  assert.ok(bob.token);
  assert.ok((await clients[0].request('ping')).now > 0);
});

test('a TCP connection that would take the reserved descriptors is closed at once', { timeout: 60000 }, async () => {
  const socks = await rawConnections(srv.httpsPort, 30);
  await sleep(1000);
  const closed = socks.filter((s) => s.closedByServer).length;
  for (const s of socks) s.destroy();
  assert.ok(closed >= 30 - (budget.acceptCap - budget.inUse - budget.wsCap),
    `${closed} of 30 closed by signald (${JSON.stringify(budget)})`);
  assert.ok(closed < 30, 'connections below the reserve are kept');
  const lines = logCount(/event=conn_refused reason=descriptors/);
  assert.ok(lines >= 1 && lines <= 3, `${closed} refusals in a burst, ${lines} log lines`);
  assert.ok((await clients[1].request('ping')).now > 0);
});

test('accept() failing with EMFILE backs off instead of spinning, and accepts again later', { timeout: 60000 }, async () => {
  const pid = srv.proc.pid;
  // Every descriptor below the new soft limit is taken: accept() fails with EMFILE.
  execFileSync('prlimit', ['--pid', String(pid), '--nofile=10:64']);
  const waiting = [...await rawConnections(srv.wsPort, 3), ...await rawConnections(srv.httpsPort, 3)];
  await sleep(300);
  const cpu0 = cpuSeconds(pid);
  const lines0 = logCount(/event=accept_paused/);
  await sleep(3000);
  const cpu = cpuSeconds(pid) - cpu0;
  const lines = logCount(/event=accept_paused/) - lines0;
  assert.ok(cpu < 0.5, `${cpu.toFixed(2)} s of CPU over 3 s at the limit`);
  assert.ok(logCount(/event=accept_paused listener=(ws|https) err="Too many open files"/) >= 1,
    srv.logText().slice(-2000));
  assert.ok(lines <= 8, `${lines} accept_paused lines over 3 s`);
  assert.equal(logCount(/accept: errno/), 0);
  assert.ok((await clients[2].request('ping')).now > 0, 'open connections are served at the limit');

  execFileSync('prlimit', ['--pid', String(pid), '--nofile=64:64']);
  for (const s of waiting) s.destroy();
  for (let i = 0; i < 3; i++) {
    const c = clients.pop();
    c.ws.close();
    await c.closedPromise;
  }
  const again = await srv.connect(alice);
  clients.push(again);
  assert.ok((await again.request('ping')).now > 0, 'a new connection is accepted again');
});
