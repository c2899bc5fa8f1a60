// chat.test.mjs - two (and a third) users against the real signald: login,
// rooms, messages, typing, receipts, reactions, search, reconnect with seq,
// authorization, bad input, and a restart in the middle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { Server, PASSWORD, PORT_BASE, sleep } from './lib.mjs';

const srv = new Server('chat', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, config: 'max_frame_kb = 64;' });
let alice, bob, carol; // sessions
let a, b, c;           // WebSocket clients
let room;

before(async () => {
  await srv.start();
  [alice, bob, carol] = await Promise.all([srv.login('alice'), srv.login('bob'), srv.login('carol')]);
});

after(async () => {
  for (const x of [a, b, c]) if (x && !x.closed) await x.close();
  const r = await srv.stop();
  assert.equal(r.code, 0, `signald exited with ${JSON.stringify(r)}\n${srv.logText()}`);
  assert.ok(!existsSync(srv.controlSocket), 'the control socket is removed at exit');
  srv.cleanup();
});

test('login: right password gives a token; wrong ones are refused, then throttled', async () => {
  assert.equal(alice.user.name, 'alice');
  assert.equal(alice.token.length, 43);
  const bad = await srv.http('POST', '/api/login', { body: { name: 'dave', password: 'nope-nope' } });
  assert.equal(bad.status, 401);
  assert.equal(bad.json.error.code, 'unauthorized');
  // Five failures are free; then each one doubles the wait (1 s, 2 s, ...). A slow
  // machine (valgrind) may take longer than the first wait between attempts, so
  // keep trying until the doubling overtakes it.
  let last, attempts = 0;
  do {
    last = await srv.http('POST', '/api/login', { body: { name: 'nobody', password: 'x' } });
    attempts++;
  } while (last.status === 401 && attempts < 12);
  assert.equal(last.status, 429, 'repeated failures are throttled');
  assert.ok(attempts >= 6, `throttled after ${attempts} attempts, not before the sixth`);
  assert.ok(Number(last.headers['retry-after']) >= 1);
  const malformed = await srv.http('POST', '/api/login', { body: '{"name": ' });
  assert.equal(malformed.status, 400);
  const me = await srv.http('GET', '/api/me', { token: bob.token });
  assert.equal(me.json.user.name, 'bob');
  assert.equal((await srv.http('GET', '/api/me', { token: 'x'.repeat(43) })).status, 401);
});

test('hello: a wrong token is refused, and nothing works before hello', async () => {
  const x = await srv.connect(null, { hello: false });
  await assert.rejects(x.request('room.list'), { code: 'unauthorized' });
  await assert.rejects(x.request('hello', { token: 'not-a-token' }), { code: 'unauthorized' });
  await x.close();
  a = await srv.connect(alice);
  b = await srv.connect(bob);
  c = await srv.connect(carol);
  assert.equal(a.helloReply.user.name, 'alice');
  assert.ok(a.helloReply.conn > 0);
});

test('a group room: the invited member hears about it, messages reach both, in order', async () => {
  const r = await a.request('room.create', { name: 'ops', topic: 'night shift', members: [bob.user.id] });
  room = r.room;
  assert.equal(room.kind, 'group');
  assert.equal(room.role, 'owner');
  const joined = await b.next('room.joined');
  assert.equal(joined.data.room.id, room.id);
  assert.ok(joined.seq > 0);

  const sent = [];
  for (const body of ['first', 'second', 'third — ünïcödé', '日本語のメッセージです']) {
    sent.push((await a.request('message.send', { room: room.id, body, client_id: `c-${body}` })).message);
  }
  for (const m of sent) {
    const ev = await b.next('message.new');
    assert.equal(ev.data.message.id, m.id);
    assert.equal(ev.data.message.body, m.body);
    const own = await a.next('message.new'); // the sender's devices get it too
    assert.equal(own.data.client_id, `c-${m.body}`);
  }
  assert.ok(sent[0].id < sent[1].id && sent[1].id < sent[2].id);
  assert.equal(b.seqBackwards, undefined, 'seqs only go up');
});

test('typing reaches the other members, not the typist; read receipts and unread counts', async () => {
  await a.request('typing', { room: room.id, active: true });
  const t = await b.next('typing');
  assert.deepEqual(t.data, { room: room.id, user: alice.user.id, active: true });
  assert.equal(t.seq, undefined, 'typing is ephemeral');
  await a.none('typing', 300);

  const unread = await b.request('unread');
  assert.equal(unread.rooms.find((x) => x.room === room.id).unread, 4);
  const hist = await b.request('message.history', { room: room.id, limit: 2 });
  assert.equal(hist.messages.length, 2);
  assert.equal(hist.more, true);
  const newest = hist.messages[0].id;
  await b.request('read.mark', { room: room.id, message: newest });
  const receipt = await a.next('read');
  assert.deepEqual(receipt.data, { room: room.id, user: bob.user.id, message: newest });
  assert.equal((await b.request('unread')).rooms.find((x) => x.room === room.id).unread, 0);
  const older = await b.request('message.history', { room: room.id, before: hist.messages[1].id });
  assert.equal(older.messages.length, 2);
  assert.equal(older.messages[0].body, 'second');
});

test('reactions, edits, deletions and replies reach everyone', async () => {
  const { message } = await b.request('message.send', { room: room.id, body: 'ack @alice', mentions: [alice.user.id] });
  await a.next((m) => m.event === 'message.new' && m.data.message.id === message.id);
  await a.request('reaction.add', { message: message.id, emoji: '👍' });
  const rx = await b.next('reaction.added');
  assert.equal(rx.data.emoji, '👍');
  await assert.rejects(a.request('reaction.add', { message: message.id, emoji: '👍' }), { code: 'conflict' });
  await assert.rejects(a.request('message.edit', { message: message.id, body: 'not mine' }), { code: 'forbidden' });
  await b.request('message.edit', { message: message.id, body: 'ack, edited', mentions: [] });
  const ed = await a.next('message.edited');
  assert.equal(ed.data.message.body, 'ack, edited');
  assert.ok(ed.data.message.edited_at > 0);
  const reply = await a.request('message.send', { room: room.id, body: 'a reply', reply_to: message.id });
  assert.equal(reply.message.reply_to, message.id);
  await b.request('message.delete', { message: message.id });
  const del = await a.next('message.deleted');
  assert.equal(del.data.message, message.id);
  const page = await a.request('message.history', { room: room.id, limit: 3 });
  const tomb = page.messages.find((m) => m.id === message.id);
  assert.equal(tomb.deleted, true);
  assert.equal(tomb.body, '');
});

test('search finds English and Japanese text, only in the searcher\'s rooms', async () => {
  const en = await b.request('search', { query: 'SECOND' });
  assert.equal(en.hits.length, 1);
  assert.match(en.hits[0].snippet_html, /<mark>second<\/mark>/i);
  const ja = await b.request('search', { query: 'メッセージ' });
  assert.equal(ja.hits.length, 1);
  const outsider = await c.request('search', { query: 'second' });
  assert.equal(outsider.hits.length, 0);
});

test('a user outside the room can do nothing in it', async () => {
  for (const [type, fields] of [
    ['message.history', { room: room.id }],
    ['message.send', { room: room.id, body: 'let me in' }],
    ['typing', { room: room.id }],
    ['room.get', { room: room.id }],
    ['room.invite', { room: room.id, user: carol.user.id }],
    ['read.mark', { room: room.id, message: 1 }],
    ['call.invite', { room: room.id }],
  ]) {
    await assert.rejects(c.request(type, fields), { code: 'forbidden' }, type);
  }
  const hist = await a.request('message.history', { room: room.id, limit: 1 });
  await assert.rejects(c.request('reaction.add', { message: hist.messages[0].id, emoji: 'x' }), { code: 'forbidden' });
  await assert.rejects(b.request('room.invite', { room: room.id, user: carol.user.id }), { code: 'forbidden' },
    'a plain member cannot invite');
  await c.none('message.new', 200);
});

test('invite, kick and leave are announced; the last owner cannot leave', async () => {
  await a.request('room.invite', { room: room.id, user: carol.user.id });
  assert.equal((await c.next('room.joined')).data.room.id, room.id);
  const m = await b.next('room.member');
  assert.equal(m.data.action, 'joined');
  assert.equal(m.data.user, carol.user.id);
  await a.request('room.kick', { room: room.id, user: carol.user.id });
  const left = await c.next('room.left');
  assert.equal(left.data.reason, 'kicked');
  await assert.rejects(c.request('message.history', { room: room.id }), { code: 'forbidden' });
  await assert.rejects(a.request('room.leave', { room: room.id }), { code: 'conflict' });
  const dm = await a.request('room.direct', { user: bob.user.id });
  assert.equal(dm.room.kind, 'direct');
  assert.equal(dm.created, true);
  assert.equal((await a.request('room.direct', { user: bob.user.id })).room.id, dm.room.id);
});

test('bad input gets an error and the connection keeps working', async () => {
  a.send('{"id": 1, "type": ');
  const e1 = await a.next((m) => m.type === 'error');
  assert.equal(e1.error.code, 'bad_request');
  a.send('[1,2,3]');
  assert.equal((await a.next((m) => m.type === 'error')).error.code, 'bad_request');
  await assert.rejects(a.request('no.such.thing'), { code: 'unknown_type' });
  await assert.rejects(a.request('message.send', { room: 'x', body: 'y' }), { code: 'bad_request' });
  await assert.rejects(a.request('message.send', { room: room.id, body: '' }), { code: 'bad_request' });
  await assert.rejects(a.request('message.history', { room: room.id, limit: 100000 }), { code: 'bad_request' });
  await assert.rejects(a.request('hello', { token: alice.token }), { code: 'bad_request' });
  assert.ok((await a.request('ping')).now > 0, 'still usable');
});

test('the control protocol cannot be reached over the network', async () => {
  const ws = new WebSocket(`wss://127.0.0.1:${srv.wsPort}/`, 'lanturn-control', { ca: srv.ca, servername: 'localhost' });
  const outcome = await new Promise((resolve) => {
    ws.on('open', () => resolve('open'));
    ws.on('error', () => resolve('refused'));
    ws.on('close', () => resolve('refused'));
  });
  assert.equal(outcome, 'refused');
});

test('an oversized frame closes only that connection (1009)', async () => {
  const x = await srv.connect(carol);
  x.send(JSON.stringify({ id: 1, type: 'ping', pad: 'x'.repeat(70 * 1024) }));
  const closed = await x.closedPromise;
  assert.equal(closed.code, 1009);
  assert.ok((await a.request('ping')).now > 0, 'others are unaffected');
});

test('presence: online, away across devices, offline', async () => {
  a.events = a.events.filter((m) => m.event !== 'presence'); // earlier logins' news
  const list = await a.request('presence.list');
  assert.ok(list.online.some((p) => p.user === bob.user.id && p.status === 'online'));
  await b.request('presence.set', { status: 'away' });
  const ev = await a.next((m) => m.event === 'presence' && m.data.user === bob.user.id);
  assert.equal(ev.data.status, 'away');
  const b2 = await srv.connect(bob); // a second device that is active makes bob online
  assert.equal((await a.next((m) => m.event === 'presence' && m.data.user === bob.user.id)).data.status, 'online');
  await b2.close();
  assert.equal((await a.next((m) => m.event === 'presence' && m.data.user === bob.user.id)).data.status, 'away');
  await b.request('presence.set', { status: 'online' });
  await a.next((m) => m.event === 'presence' && m.data.user === bob.user.id);
});

test('the control socket shows stats, sessions and metrics, and ends a device\'s connection', async () => {
  const st = await srv.control({ cmd: 'stats' });
  assert.equal(st.ok, true);
  assert.ok(st.stats.users_online >= 3 && st.stats.requests > 0);
  const ses = await srv.control({ cmd: 'sessions' });
  const mine = ses.sessions.find((x) => x.conn === c.helloReply.conn);
  assert.equal(mine.user, carol.user.id);
  const m = await srv.control({ cmd: 'metrics' });
  assert.match(m.metrics, /^lanturn_signal_users_online \d+$/m);
  assert.equal((await srv.control({ cmd: 'bogus' })).ok, false);
  const k = await srv.control({ cmd: 'kill', conn: c.helloReply.conn });
  assert.equal(k.closed, 1);
  assert.equal((await c.closedPromise).code, 4002);
  c = await srv.connect(carol); // the session itself still works
});

test('a reconnecting client gets exactly the events it missed, in order, once', async () => {
  while (b.events.length) b.events.pop();
  const since = b.lastSeq;
  await b.close();
  const bodies = ['while away 1', 'while away 2', 'while away 3'];
  for (const body of bodies) await a.request('message.send', { room: room.id, body });
  await a.request('reaction.add', { message: (await a.request('message.history', { room: room.id, limit: 1 })).messages[0].id, emoji: '🎉' });
  b = await srv.connect(bob, { since });
  assert.equal(b.helloReply.resync, false);
  const got = [];
  for (let i = 0; i < 4; i++) got.push(await b.next((m) => m.type === 'event' && m.seq !== undefined));
  assert.ok(got[0].seq > since);
  for (let i = 1; i < 4; i++) assert.ok(got[i].seq > got[i - 1].seq, 'in order');
  assert.equal(got[3].seq, b.helloReply.last_seq);
  assert.deepEqual(got.slice(0, 3).map((e) => e.data.message.body), bodies);
  assert.equal(got[3].event, 'reaction.added');
  await b.none((m) => m.seq !== undefined, 300);
  // and live events continue from there
  await a.request('message.send', { room: room.id, body: 'live again' });
  assert.ok((await b.next('message.new')).seq > got[3].seq);
  // a seq from the future is answered with resync
  const z = await srv.connect(bob, { since: since + 1000 });
  assert.equal(z.helloReply.resync, true);
  await z.close();
});

test('signald restarts: history, sessions and the event stream survive', async () => {
  const since = b.lastSeq;
  for (const x of [a, b, c]) await x.close();
  const r = await srv.stop();
  assert.equal(r.code, 0);
  await srv.start();
  a = await srv.connect(alice);
  b = await srv.connect(bob, { since });
  c = await srv.connect(carol);
  assert.equal(b.helloReply.resync, false);
  assert.ok(b.helloReply.last_seq >= since);
  await b.none((m) => m.seq !== undefined, 300); // nothing of bob's was missed
  const hist = await a.request('message.history', { room: room.id, limit: 1 });
  assert.equal(hist.messages[0].body, 'live again');
  await a.request('message.send', { room: room.id, body: 'after restart' });
  const ev = await b.next('message.new');
  assert.ok(ev.seq > b.helloReply.last_seq);
});

test('resume across personal and room events is exact: the same events, seqs and order a live device got', async () => {
  // bob's second device stays online and sees everything live; his first is
  // away meanwhile and must get exactly the same durable events on return.
  const live = await srv.connect(bob);
  const since = b.lastSeq;
  await b.close();
  await a.request('message.send', { room: room.id, body: 'room message while away' });
  const r2 = (await a.request('room.create', { name: 'side', members: [bob.user.id] })).room;
  await a.request('message.send', { room: r2.id, body: 'in the new room' });
  const r3 = (await a.request('room.create', { name: 'no bob', members: [carol.user.id] })).room;
  await a.request('message.send', { room: r3.id, body: 'not for bob' });
  await a.request('room.kick', { room: r2.id, user: bob.user.id });
  await a.request('message.send', { room: r2.id, body: 'after bob was kicked' });
  await a.request('message.send', { room: room.id, body: 'last one' });
  const seen = [];
  for (;;) {
    const m = await live.next((x) => x.type === 'event' && x.seq !== undefined);
    seen.push(m);
    if (m.event === 'message.new' && m.data.message.body === 'last one') break;
  }
  const kinds = seen.map((m) => m.event);
  assert.ok(kinds.includes('room.joined') && kinds.includes('room.left'), kinds.join());
  assert.ok(!seen.some((m) => m.event === 'message.new' && /not for bob|after bob/.test(m.data.message.body)));

  b = await srv.connect(bob, { since });
  assert.equal(b.helloReply.resync, false);
  const replayed = [];
  for (let i = 0; i < seen.length; i++) replayed.push(await b.next((x) => x.type === 'event' && x.seq !== undefined));
  await b.none((x) => x.seq !== undefined, 300); // and nothing more
  assert.deepEqual(replayed.map((m) => [m.seq, m.event, m.data]), seen.map((m) => [m.seq, m.event, m.data]));
  assert.equal(b.seqBackwards, undefined);
  await live.close();
});

test('logout ends the session everywhere; a password change ends the other sessions', async () => {
  const s2 = await srv.login('carol');
  const c2 = await srv.connect(s2);
  assert.equal((await srv.http('POST', '/api/logout', { token: s2.token, body: {} })).status, 200);
  const closed = await c2.closedPromise;
  assert.equal(closed.code, 4001);
  await assert.rejects(srv.connect(s2), /unauthorized/);
  const weak = await srv.http('POST', '/api/password', { token: carol.token, body: { old_password: PASSWORD, new_password: 'short' } });
  assert.equal(weak.status, 400);
  const wrong = await srv.http('POST', '/api/password', { token: carol.token, body: { old_password: 'nope-nope', new_password: 'a much better one' } });
  assert.equal(wrong.status, 403);
  const other = await srv.login('carol');
  const ok = await srv.http('POST', '/api/password', { token: carol.token, body: { old_password: PASSWORD, new_password: 'a much better one' } });
  assert.equal(ok.status, 200);
  assert.equal((await srv.http('GET', '/api/me', { token: other.token })).status, 401, 'other sessions revoked');
  assert.equal((await srv.http('GET', '/api/me', { token: carol.token })).status, 200, 'this one kept');
  await srv.login('carol', 'a much better one');
});

test('only admins create users; names and passwords are checked', async () => {
  const denied = await srv.http('POST', '/api/users', { token: bob.token, body: { name: 'eve', password: 'long enough pw' } });
  assert.equal(denied.status, 403);
  const made = await srv.http('POST', '/api/users', { token: alice.token, body: { name: 'erin', password: 'long enough pw', display_name: 'Erin Ito' } });
  assert.equal(made.status, 201);
  assert.equal(made.json.user.display_name, 'Erin Ito');
  assert.equal((await srv.http('POST', '/api/users', { token: alice.token, body: { name: 'erin', password: 'long enough pw' } })).status, 409);
  assert.equal((await srv.http('POST', '/api/users', { token: alice.token, body: { name: '../etc', password: 'long enough pw' } })).status, 400);
  assert.equal((await srv.http('POST', '/api/register', { body: { name: 'mallory', password: 'long enough pw' } })).status, 403);
  const users = await a.request('user.list');
  assert.ok(users.users.some((u) => u.name === 'erin'));
});
