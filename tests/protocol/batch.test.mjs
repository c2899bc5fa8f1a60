// batch.test.mjs - event batching against the real signald: a client that says
// "batch": true in hello gets the events queued on its connection in
// {"type":"batch"} messages (fewer WebSocket messages than events, in seq
// order, at most 64 KiB each, never with a reply inside); a client that does
// not say so gets one message per event, as before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, PORT_BASE } from './lib.mjs';

const srv = new Server('batch', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1 });
const BATCH_MAX_BYTES = 64 * 1024;
let alice, bob; // sessions
let a;          // alice's WebSocket client
let room;
const open = [];

before(async () => {
  await srv.start();
  [alice, bob] = await Promise.all([srv.login('alice'), srv.login('bob')]);
  a = await srv.connect(alice);
  open.push(a);
  room = (await a.request('room.create', { name: 'burst', members: [bob.user.id] })).room;
});

after(async () => {
  for (const x of open) if (!x.closed) await x.close();
  const r = await srv.stop();
  assert.equal(r.code, 0, `signald exited with ${JSON.stringify(r)}\n${srv.logText()}`);
  srv.cleanup();
});

// bob's stream now: a seq to replay from.
async function bobSince() {
  const x = await srv.connect(bob);
  const since = x.helloReply.last_seq;
  await x.close();
  return since;
}

async function sendAll(bodies) {
  const ids = [];
  for (const body of bodies) ids.push((await a.request('message.send', { room: room.id, body })).message.id);
  return ids;
}

// The n message.new events a client got, checked to be in seq order.
async function messages(x, n) {
  const got = [];
  while (got.length < n) got.push(await x.next('message.new'));
  for (let i = 1; i < got.length; i++) assert.ok(got[i].seq > got[i - 1].seq, 'seqs go up');
  assert.equal(x.seqBackwards, undefined, 'no seq went backwards');
  return got;
}

// WebSocket messages after the hello reply that carried events, and the events in them.
function carried(x) {
  const msgs = x.received.filter((r) => r.type !== 'reply' && r.type !== 'error');
  return { msgs, events: msgs.reduce((s, r) => s + (r.type === 'batch' ? r.events : 1), 0) };
}

test('replay: a batching client gets a burst in fewer messages, in order; a plain client one per event', async () => {
  const since = await bobSince();
  const bodies = Array.from({ length: 30 }, (_, i) => `burst ${i}`);
  const ids = await sendAll(bodies);

  const batched = await srv.connect(bob, { since, batch: true });
  open.push(batched);
  const got = await messages(batched, bodies.length);
  assert.deepEqual(got.map((e) => e.data.message.id), ids);
  assert.deepEqual(got.map((e) => e.data.message.body), bodies);
  const b = carried(batched);
  assert.ok(b.msgs.some((r) => r.type === 'batch'), 'at least one batch');
  assert.ok(b.msgs.length * 2 <= b.events,
    `${b.events} events came in ${b.msgs.length} WebSocket messages`);

  const plain = await srv.connect(bob, { since });
  open.push(plain);
  const got2 = await messages(plain, bodies.length);
  assert.deepEqual(got2.map((e) => e.data.message.id), ids);
  const p = carried(plain);
  assert.equal(p.msgs.filter((r) => r.type === 'batch').length, 0, 'no batch without "batch": true');
  assert.equal(p.msgs.length, p.events, 'one WebSocket message per event');
  await Promise.all([batched.close(), plain.close()]);
});

test('a batch stays within 64 KiB: a larger burst comes in several, none missing', async () => {
  const since = await bobSince();
  const bodies = Array.from({ length: 24 }, (_, i) => `${i} `.padEnd(8000, 'x'));
  const ids = await sendAll(bodies);
  const batched = await srv.connect(bob, { since, batch: true });
  open.push(batched);
  const got = await messages(batched, bodies.length);
  assert.deepEqual(got.map((e) => e.data.message.id), ids);
  const b = carried(batched);
  assert.ok(b.msgs.length >= 3, `~192 KB of events in ${b.msgs.length} messages`);
  assert.ok(b.msgs.length < bodies.length, `${bodies.length} events in ${b.msgs.length} messages`);
  for (const r of b.msgs) assert.ok(r.bytes <= BATCH_MAX_BYTES, `a ${r.bytes}-byte message`);
  await batched.close();
});

test('a reply asked for after a burst comes after its events, alone', async () => {
  const since = await bobSince();
  const bodies = Array.from({ length: 20 }, (_, i) => `then ping ${i}`);
  await sendAll(bodies);
  const x = await srv.connect(bob, { hello: false });
  open.push(x);
  // hello (whose replay queues the burst) and a ping, sent together
  const [hello, ping] = await Promise.all([
    x.request('hello', { token: bob.token, since, batch: true }), x.request('ping')]);
  assert.equal(hello.user.id, bob.user.id);
  assert.ok(ping.now > 0);
  await messages(x, bodies.length);
  const order = x.received.map((r) => r.type);
  assert.equal(order[0], 'reply', 'the hello reply first');
  const pingAt = x.received.findIndex((r) => r.type === 'reply' && r.id === 2);
  const lastBatch = order.lastIndexOf('batch');
  assert.ok(lastBatch > 0, 'the replay came batched');
  assert.ok(pingAt > lastBatch, `the ping reply (message ${pingAt}) after the burst (${lastBatch})`);
  await x.close();
});

test('live: bursts from two senders reach a batching and a plain client, all and in seq order', async () => {
  // fresh connections: the rate limit (bursts of 100) is per connection
  const carol = await srv.login('carol');
  const [s1, s2] = await Promise.all([srv.connect(alice), srv.connect(carol)]);
  const batched = await srv.connect(bob, { batch: true });
  const plain = await srv.connect(bob);
  open.push(s1, s2, batched, plain);
  const r = (await s1.request('room.create', { name: 'live', members: [bob.user.id, carol.user.id] })).room;
  await s2.next('room.joined');
  for (const x of [batched, plain]) await x.next('room.joined');
  const burst = (x, who) => Array.from({ length: 25 }, (_, i) =>
    x.request('message.send', { room: r.id, body: `${who} ${i}` }));
  // pipelined: the server handles several in one turn and commits them together
  const sent = await Promise.all([...burst(s1, 'alice'), ...burst(s2, 'carol')]);
  const ids = sent.map((m) => m.message.id).sort((x, y) => x - y);
  for (const x of [batched, plain]) {
    const got = await messages(x, ids.length);
    assert.deepEqual(got.map((e) => e.data.message.id), ids, 'every message, in seq order');
  }
  const p = carried(plain);
  assert.equal(p.msgs.filter((m) => m.type === 'batch').length, 0);
  assert.equal(p.msgs.length, p.events, 'the plain client: one message per event');
  const b = carried(batched);
  assert.ok(b.msgs.length <= b.events);
  await Promise.all([s1.close(), s2.close(), batched.close(), plain.close()]);
});
