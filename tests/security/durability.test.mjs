// durability.test.mjs - kill -9 signald while 100 connections send messages
// as fast as they are acknowledged: every acknowledged message is in the
// history after the restart, no message is there twice, and a device that
// reconnects with its last seq gets every event it missed, gapless and once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, PORT_BASE, sleep } from '../protocol/lib.mjs';

const USERS = Array.from({ length: 10 }, (_, i) => `u${i}`);
const srv = new Server('durability', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, users: USERS,
  config: 'rate_per_second = 10000; rate_burst = 100000;' });

after(async () => {
  if (srv.proc) await srv.stop();
  srv.cleanup();
});

async function allHistory(client, room) {
  const out = [];
  let before = 0;
  for (let page = 0; page < 1000; page++) { // bounded: 200 * 1000 messages at most
    const r = await client.request('message.history', { room, limit: 200, ...(before ? { before } : {}) });
    out.push(...r.messages);
    if (!r.more) break;
    before = r.messages[r.messages.length - 1].id;
  }
  return out;
}

test('kill -9 under load: acknowledged messages survive, nothing duplicated, seq replay is exact', async () => {
  await srv.start();
  const sessions = await Promise.all(USERS.map((u) => srv.login(u)));
  const observer = await srv.connect(sessions[1]); // a device that will reconnect by seq
  const owner = await srv.connect(sessions[0]);
  const { room } = await owner.request('room.create', { name: 'load', members: sessions.slice(1).map((s) => s.user.id) });
  await observer.next('room.joined');

  const clients = [];
  for (let i = 0; i < 100; i++) clients.push(await srv.connect(sessions[i % USERS.length]));
  const acked = new Set();
  let stop = false;
  const senders = clients.map(async (c, i) => {
    for (let n = 0; !stop && n < 100000; n++) {
      const body = `c${i}-m${n}`;
      try {
        await c.request('message.send', { room: room.id, body });
        acked.add(body);
      } catch {
        return; // the server died under us: this one was not acknowledged
      }
    }
  });
  await sleep(3000);
  const seenBefore = observer.lastSeq;
  srv.proc.kill('SIGKILL');
  const died = await srv.exited;
  assert.equal(died.sig, 'SIGKILL');
  stop = true;
  await Promise.all(senders);
  srv.proc = null;
  assert.ok(acked.size > 50, `only ${acked.size} messages were acknowledged before the kill`);

  await srv.start();
  const reader = await srv.connect(sessions[0]);
  const history = await allHistory(reader, room.id);
  const bodies = history.map((m) => m.body);
  const counts = new Map();
  for (const b of bodies) counts.set(b, (counts.get(b) || 0) + 1);
  const dups = [...counts].filter(([, k]) => k > 1);
  assert.deepEqual(dups, [], 'no message is stored twice');
  const missing = [...acked].filter((b) => !counts.has(b));
  assert.deepEqual(missing, [], `all ${acked.size} acknowledged messages are in the history`);

  // The observer's device comes back with the last seq it saw before the kill.
  const back = await srv.connect(sessions[1], { since: seenBefore });
  assert.equal(back.helloReply.resync, false);
  const last = back.helloReply.last_seq;
  const seqs = [];
  while (seqs.length < last - seenBefore) seqs.push((await back.next((m) => m.seq !== undefined, 20000)).seq);
  assert.deepEqual(seqs, Array.from({ length: last - seenBefore }, (_, i) => seenBefore + 1 + i),
    'every missed event once, in order');
  console.log(`acknowledged=${acked.size} stored=${history.length} replayed_to_observer=${seqs.length}`);
  for (const c of [reader, back]) await c.close();
});
