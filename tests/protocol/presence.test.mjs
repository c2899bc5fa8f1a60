// presence.test.mjs - presence subscriptions: a device hears about the users
// it subscribed to; past presence_broadcast_max connections, devices that did
// not subscribe hear nothing, so a status change costs one frame per
// interested device instead of one per connection on the server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, PORT_BASE } from './lib.mjs';

const srv = new Server('presence', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, config: 'presence_broadcast_max = 2;',
  users: ['alice', 'bob', 'carol', 'dave'] });
let s = {};
const clients = [];

before(async () => {
  await srv.start();
  for (const u of ['alice', 'bob', 'carol', 'dave']) s[u] = await srv.login(u);
});

after(async () => {
  for (const c of clients) if (!c.closed) await c.close();
  assert.equal((await srv.stop()).code, 0, srv.logText());
  srv.cleanup();
});

const about = (id) => (m) => m.event === 'presence' && m.data.user === id;

test('small sites: without a subscription every change is heard', async () => {
  const a = await srv.connect(s.alice);
  clients.push(a);
  const b = await srv.connect(s.bob);
  clients.push(b);
  assert.equal((await a.next(about(s.bob.user.id))).data.status, 'online');
});

test('a subscription returns the current state and delivers only the chosen users', async () => {
  const a = clients[0];
  const r = await a.request('presence.subscribe', { users: [s.bob.user.id, s.dave.user.id, s.bob.user.id] });
  assert.deepEqual(r.presence.map((p) => [p.user, p.status]),
    [[s.bob.user.id, 'online'], [s.dave.user.id, 'offline']]);
  const c = await srv.connect(s.carol); // carol is not subscribed to: alice hears nothing
  clients.push(c);
  await a.none(about(s.carol.user.id), 400);
  const d = await srv.connect(s.dave);
  clients.push(d);
  assert.equal((await a.next(about(s.dave.user.id))).data.status, 'online');
  await clients[1].request('presence.set', { status: 'away' });
  assert.equal((await a.next(about(s.bob.user.id))).data.status, 'away');
});

test('past presence_broadcast_max connections, unsubscribed devices hear nothing', async () => {
  const c = clients[2]; // carol never subscribed; 4 connections > 2
  await clients[1].request('presence.set', { status: 'online' });
  await c.none(about(s.bob.user.id), 400);
  await assert.rejects(c.request('presence.subscribe', { users: 'x' }), { code: 'bad_request' });
  await assert.rejects(c.request('presence.subscribe', { users: Array.from({ length: 2001 }, (_, i) => i + 1) }),
    { code: 'bad_request' });
});

test('closing a subscribed device leaves no dangling subscription', async () => {
  const a = clients[0];
  await a.close();
  await clients[3].close(); // dave goes offline: nobody left to tell, and nothing breaks
  const again = await srv.connect(s.alice);
  clients.push(again);
  assert.ok((await again.request('ping')).now > 0);
});
