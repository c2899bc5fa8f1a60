// calls.test.mjs - call signalling through the real signald, and TURN
// credentials that the real turnd accepts (checked with coturn's uclient).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Server, PORT_BASE, TURND, sleep } from './lib.mjs';

const ended = (id) => (m) => m.event === 'call.ended' && m.data.call === id;

const srv = new Server('calls', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, config: 'ring_timeout = 5;' });
let alice, bob, carol, a, b, b2, c, dm, group;

before(async () => {
  await srv.start();
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => srv.login(u)));
  a = await srv.connect(alice);
  b = await srv.connect(bob);
  b2 = await srv.connect(bob); // bob's second device
  c = await srv.connect(carol);
  dm = (await a.request('room.direct', { user: bob.user.id })).room;
  group = (await a.request('room.create', { name: 'standup', members: [bob.user.id, carol.user.id] })).room;
});

after(async () => {
  for (const x of [a, b, b2, c]) if (!x.closed) await x.close();
  const r = await srv.stop();
  assert.equal(r.code, 0, srv.logText());
  srv.cleanup();
});

test('1:1 call: invite rings every device, accept on one, SDP and ICE reach only the peer, hang up', async () => {
  // without mediad there is no SFU: calls are a mesh, and asking for SFU is refused
  await assert.rejects(a.request('call.invite', { room: dm.id, media: 'video', sfu: true }), { code: 'unavailable' });
  const { call } = await a.request('call.invite', { room: dm.id, media: 'video' });
  assert.equal(call.media, 'video');
  assert.equal(call.mode, 'mesh');
  const inc1 = await b.next('call.incoming');
  const inc2 = await b2.next('call.incoming');
  assert.equal(inc1.data.call.id, call.id);
  assert.equal(inc2.data.from_conn, a.helloReply.conn);
  await c.none('call.incoming', 200);

  await b.request('call.ringing', { call: call.id });
  assert.equal((await a.next('call.ringing')).data.user, bob.user.id);
  const acc = await b.request('call.accept', { call: call.id });
  assert.equal(acc.call.active, true);
  const joined = await a.next('call.joined');
  assert.equal(joined.data.conn, b.helloReply.conn);
  assert.equal((await b2.next('call.ended')).data.reason, 'answered_elsewhere');

  const offer = { sdp: { type: 'offer', sdp: 'v=0 fake offer' } };
  await a.request('call.signal', { call: call.id, to: b.helloReply.conn, data: offer });
  const got = await b.next('call.signal');
  assert.deepEqual(got.data.data, offer);
  assert.equal(got.data.from_conn, a.helloReply.conn);
  await b.request('call.signal', { call: call.id, to: a.helloReply.conn, data: { sdp: { type: 'answer', sdp: 'v=0' } } });
  await b.request('call.signal', { call: call.id, to: a.helloReply.conn, data: { candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ relay' } } });
  assert.equal((await a.next('call.signal')).data.data.sdp.type, 'answer');
  assert.ok((await a.next('call.signal')).data.data.candidate);
  // nobody outside the call can inject signalling, and the second device is not in it
  await assert.rejects(c.request('call.signal', { call: call.id, to: a.helloReply.conn, data: offer }), { code: 'not_found' });
  await assert.rejects(b2.request('call.signal', { call: call.id, to: a.helloReply.conn, data: offer }), { code: 'forbidden' });
  await assert.rejects(a.request('call.signal', { call: call.id, to: b2.helloReply.conn, data: offer }), { code: 'not_found' });
  await assert.rejects(a.request('call.signal', { call: call.id, to: b.helloReply.conn, data: 'x' }), { code: 'bad_request' });

  await b.request('call.hangup', { call: call.id });
  assert.equal((await a.next(ended(call.id))).data.reason, 'hangup');
  assert.equal((await b.next(ended(call.id))).data.reason, 'hangup');
  assert.deepEqual((await a.request('call.list')).calls, []);
});

test('decline ends a 1:1 call; cancel ends it before an answer; a busy callee ends it at once', async () => {
  let { call } = await a.request('call.invite', { room: dm.id, media: 'audio' });
  await b.next('call.incoming');
  await b2.next('call.incoming');
  await b.request('call.decline', { call: call.id });
  assert.equal((await a.next('call.declined')).data.user, bob.user.id);
  assert.equal((await a.next(ended(call.id))).data.reason, 'declined');

  ({ call } = await a.request('call.invite', { room: dm.id }));
  await b.next('call.incoming');
  await b2.next('call.incoming');
  await assert.rejects(b.request('call.cancel', { call: call.id }), { code: 'forbidden' });
  await a.request('call.cancel', { call: call.id });
  assert.equal((await b.next(ended(call.id))).data.reason, 'cancelled');
  assert.equal((await b2.next(ended(call.id))).data.reason, 'cancelled');

  // carol calls bob in the group and bob answers; then alice's 1:1 call finds bob busy
  const g = (await c.request('call.invite', { room: group.id })).call;
  await b.next('call.incoming');
  await b.request('call.accept', { call: g.id });
  ({ call } = await a.request('call.invite', { room: dm.id }));
  assert.equal((await a.next(ended(call.id), 3000)).data.reason, 'busy');
  await assert.rejects(a.request('call.invite', { room: group.id }), { code: 'conflict' }, 'one call per room');
  await c.request('call.hangup', { call: g.id });
  await b.next(ended(g.id));
});

test('group call: a late joiner meets everyone already in it; leaving keeps the call for the rest', async () => {
  for (const x of [a, b, b2, c]) x.events.length = 0;
  const { call } = await a.request('call.invite', { room: group.id, media: 'video' });
  await b.next('call.incoming');
  await c.next('call.incoming');
  await b.request('call.accept', { call: call.id });
  await a.next('call.joined');
  const r = await c.request('call.accept', { call: call.id });
  const inCall = r.call.members.filter((m) => m.state === 'joined').map((m) => m.conn).sort();
  assert.deepEqual(inCall, [a.helloReply.conn, b.helloReply.conn, c.helloReply.conn].sort());
  assert.equal((await a.next('call.joined')).data.user, carol.user.id);
  assert.equal((await b.next('call.joined')).data.user, carol.user.id);
  await a.request('call.hangup', { call: call.id });
  assert.equal((await b.next('call.left')).data.user, alice.user.id);
  await c.next('call.left');
  await c.request('call.signal', { call: call.id, to: b.helloReply.conn, data: { sdp: { type: 'offer', sdp: 'restart' } } });
  assert.equal((await b.next('call.signal')).data.data.sdp.sdp, 'restart');
  await c.request('call.hangup', { call: call.id });
  assert.equal((await b.next(ended(call.id))).data.reason, 'hangup');
});

test('an unanswered call times out; a device that reconnects while it rings hears it again', async () => {
  const { call } = await a.request('call.invite', { room: dm.id });
  await b.next('call.incoming');
  await b2.close();
  b2 = await srv.connect(bob);
  assert.equal((await b2.next('call.incoming')).data.call.id, call.id);
  const t0 = Date.now();
  assert.equal((await a.next(ended(call.id), 10000)).data.reason, 'timeout');
  assert.ok(Date.now() - t0 < 8000);
});

test('a caller that disconnects cancels its ringing call', async () => {
  const x = await srv.connect(alice);
  const { call } = await x.request('call.invite', { room: dm.id });
  await b.next((m) => m.event === 'call.incoming' && m.data.call.id === call.id);
  await x.close();
  assert.equal((await b.next(ended(call.id))).data.reason, 'cancelled');
});

test('TURN credentials from signald allocate on the real turnd (coturn uclient relays through it)', async (t) => {
  const cred = await a.request('turn.credentials');
  assert.equal(cred.iceTransportPolicy, 'relay');
  const server = cred.iceServers[0];
  assert.deepEqual(server.urls, [srv.turnUrl]);
  assert.match(server.username, new RegExp(`^\\d+:${alice.user.id}$`));
  assert.ok(cred.expires_at > Date.now() / 1000);
  const uclient = spawnSync('sh', ['-c', 'command -v turnutils_uclient']).stdout.toString().trim();
  if (!uclient || !TURND) { t.skip('turnd or coturn\'s turnutils_uclient missing'); return; }
  const port = srv.wsPort + 1;
  const turnd = spawn(TURND, ['--listen', `127.0.0.1:${port}`, '--relay-ip', '127.0.0.1', '--no-tcp',
    '--relay-ports', `${PORT_BASE + 1000}-${PORT_BASE + 1099}`, '--secret-file', srv.secretFile],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  turnd.stderr.on('data', (d) => log.push(d));
  try {
    await sleep(300);
    const run = (user, pass) => spawnSync(uclient, ['-y', '-n', '20', '-m', '2', '-l', '120', '-z', '5',
      '-u', user, '-w', pass, '-p', String(port), '127.0.0.1'], { timeout: 30000 });
    const ok = run(server.username, server.credential);
    const out = ok.stdout.toString() + ok.stderr.toString();
    const counts = [...out.matchAll(/tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/g)].pop() || [];
    const sent = Number(counts[1]), recv = Number(counts[2]);
    assert.ok(sent > 0 && recv === sent, `uclient relayed ${recv}/${sent}\n${out.slice(-800)}`);
    const bad = run(server.username, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    const badOut = bad.stdout.toString() + bad.stderr.toString();
    assert.ok(!/tot_recv_msgs=[1-9]/.test(badOut), 'a wrong credential relays nothing');
  } finally {
    turnd.kill('SIGTERM');
  }
});
