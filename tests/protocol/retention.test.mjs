// retention.test.mjs - event retention in the real signald: with
// event_retention_days = 0 nothing is pruned and an old cursor resumes
// exactly; with a retention, the events older than it go at start (a backlog
// of more than one chunk in several steps, logged as one line with the count),
// a client whose cursor lies before the cut gets a "resync" event, and one
// after the cut gets exactly its missed events. Events are made old by
// backdating their rows in the real database while signald is stopped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, PORT_BASE, sleep } from './lib.mjs';

const DAY_MS = 86400 * 1000;
const BACKLOG = 25000; // more than two of signald's 10,000-event chunks
const srv = new Server('retention', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, users: ['alice', 'bob'],
  config: 'event_retention_days = 0;' });
const db = join(srv.data, 'lanturn.db');
let alice, bob;
let cursor0; // bob's cursor before anything of the test happened
let cut;     // the last seq of the events backdated past the retention
let oldCount; // how many events there are up to it

function sql(text) {
  return execFileSync('sqlite3', [db, text], { encoding: 'utf8' }).trim();
}

function setRetention(days) {
  writeFileSync(srv.configFile, `signal: {\n  event_retention_days = ${days};\n};\n`);
}

// Waits for signald's events_pruned log line: {removed, steps}.
async function prunedLine() {
  for (let i = 0; i < 200; i++) {
    const m = /events_pruned removed=(\d+) steps=(\d+)/.exec(srv.logText());
    if (m) return { removed: Number(m[1]), steps: Number(m[2]) };
    await sleep(50);
  }
  throw new Error(`no events_pruned line:\n${srv.logText()}`);
}

// What bob gets resuming from since: the hello reply, the bodies of the
// messages replayed, and whether a resync event came instead.
async function resume(since) {
  const b = await srv.connect(bob, { since });
  const bodies = [];
  let resync = null;
  for (;;) {
    let m;
    try {
      m = await b.next((x) => x.event === 'message.new' || x.event === 'resync', 1000);
    } catch { break; }
    if (m.event === 'resync') { resync = m.data; break; }
    bodies.push(m.data.message.body);
  }
  await b.close();
  return { hello: b.helloReply, bodies, resync };
}

before(async () => {
  // A backlog of alice's old events, the stream's oldest, before signald first starts.
  const old = Date.now() - 30 * DAY_MS;
  sql(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${BACKLOG}) ` +
      `INSERT INTO events (user_id, type, payload, created_at) ` +
      `SELECT (SELECT id FROM users WHERE name = 'alice'), 'test.old', '{}', ${old} FROM n;`);
  await srv.start();
  [alice, bob] = await Promise.all([srv.login('alice'), srv.login('bob')]);
  const a = await srv.connect(alice);
  const b = await srv.connect(bob);
  cursor0 = b.helloReply.last_seq;
  assert.ok(cursor0 >= BACKLOG);
  const room = (await a.request('room.create', { name: 'ops', members: [bob.user.id] })).room;
  for (const body of ['old 1', 'old 2', 'old 3']) await a.request('message.send', { room: room.id, body });
  for (let i = 0; i < 3; i++) await b.next('message.new');
  cut = b.lastSeq;
  for (const body of ['new 1', 'new 2']) await a.request('message.send', { room: room.id, body });
  for (let i = 0; i < 2; i++) await b.next('message.new');
  await a.close();
  await b.close();
  assert.equal((await srv.stop()).code, 0);
  // Everything up to the third message is now three days old.
  sql(`UPDATE events SET created_at = created_at - ${3 * DAY_MS} WHERE seq <= ${cut};`);
  oldCount = Number(sql(`SELECT count(*) FROM events WHERE seq <= ${cut}`));
  assert.ok(oldCount > BACKLOG + 3);
});

after(async () => {
  const r = await srv.stop();
  assert.equal(r.code, 0, `signald exited with ${JSON.stringify(r)}\n${srv.logText()}`);
  srv.cleanup();
});

test('event_retention_days = 0 keeps every event: an old cursor still resumes exactly', async () => {
  await srv.start();
  await sleep(1000); // several ticks: a prune, had there been one, would have run
  assert.doesNotMatch(srv.logText(), /events_pruned/);
  assert.equal(Number(sql(`SELECT count(*) FROM events WHERE seq <= ${cut}`)), oldCount);
  const r = await resume(cursor0);
  assert.equal(r.resync, null);
  assert.deepEqual(r.bodies, ['old 1', 'old 2', 'old 3', 'new 1', 'new 2']);
  assert.equal((await srv.stop()).code, 0);
});

test('with a retention, signald prunes the old events at start in chunks and a stale cursor gets resync', async () => {
  setRetention(2);
  await srv.start();
  const line = await prunedLine();
  assert.equal(line.removed, oldCount, 'every event older than two days, and only those');
  // 10,000 a step; the step that deletes fewer ends the run
  assert.equal(line.steps, Math.floor(oldCount / 10000) + 1);
  assert.equal(Number(sql(`SELECT count(*) FROM events WHERE seq <= ${cut}`)), 0);
  assert.equal(Number(sql(`SELECT count(*) FROM events WHERE seq > ${cut}`)), 2);
  assert.equal(Number(sql("SELECT value FROM stream_meta WHERE key = 'pruned_through'")), cut);

  const stale = await resume(cursor0); // before the cut: its events are gone
  assert.equal(stale.hello.resync, false);
  assert.deepEqual(stale.resync, { last_seq: stale.hello.last_seq, reason: 'pruned' });
  assert.deepEqual(stale.bodies, []);
  const fresh = await resume(cut); // at the cut: exactly what came after
  assert.equal(fresh.resync, null);
  assert.deepEqual(fresh.bodies, ['new 1', 'new 2']);
});
