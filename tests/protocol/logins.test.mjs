// logins.test.mjs - password checks run in signald's worker pool: with one
// worker and room for one job (password_threads = 1, password_jobs = 1) a
// storm of logins is answered "busy" (503, Retry-After) beyond the bound, every
// retry then succeeds, wrong passwords still fail and are throttled, and the
// token routes (me, logout) answer while checks are in flight.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, PORT_BASE, PASSWORD } from './lib.mjs';

const users = Array.from({ length: 12 }, (_, i) => `u${i}`);
const srv = new Server('logins', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1,
  config: 'password_threads = 1;\npassword_jobs = 1;', users });

before(async () => { await srv.start(); });

after(async () => {
  assert.equal((await srv.stop()).code, 0, srv.logText());
  srv.cleanup();
});

const login = (name, password = PASSWORD) => srv.http('POST', '/api/login', { body: { name, password } });

test('a storm past password_jobs is told busy with Retry-After; each retry then succeeds', async () => {
  const replies = await Promise.all(users.map((u) => login(u)));
  const busy = [];
  for (const [i, r] of replies.entries()) {
    if (r.status === 503) {
      assert.equal(r.json.error.code, 'busy');
      assert.equal(r.headers['retry-after'], '1');
      busy.push(users[i]);
    } else {
      assert.equal(r.status, 200, r.body.toString());
      assert.ok(r.json.token);
    }
  }
  assert.ok(busy.length > 0, 'twelve logins at once against room for one: some are busy');
  for (const u of busy) assert.equal((await login(u)).status, 200, `${u} retried`);
  assert.match(srv.logText(), /event=password_busy/);
});

test('a wrong password still fails, and repeated failures are throttled', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await login('u0', 'not the password')).status, 401);
  const r = await login('u0');
  assert.equal(r.status, 429, 'the right password waits too once the failures add up');
  assert.ok(Number(r.headers['retry-after']) > 0);
});

test('me and logout answer while password checks are in flight', async () => {
  const s = await srv.http('POST', '/api/login', { body: { name: 'u1', password: PASSWORD } });
  assert.equal(s.status, 200);
  const storm = Promise.all(users.slice(2).map((u) => login(u)));
  const me = await srv.http('GET', '/api/me', { token: s.json.token });
  assert.equal(me.status, 200);
  assert.equal(me.json.user.name, 'u1');
  assert.equal((await srv.http('POST', '/api/logout', { token: s.json.token, body: {} })).status, 200);
  assert.equal((await srv.http('GET', '/api/me', { token: s.json.token })).status, 401);
  for (const r of await storm) assert.ok(r.status === 200 || r.status === 503, `${r.status}`);
});
