// call_broadcast.test.mjs - a presenter broadcasts to a room through mediad:
// the real signald, turnd and mediad (room mode), with offers written here.
// Checks that every viewer's one pair carries the presenter's streams in
// mediad, that viewers publish nothing, that viewers hear nothing of each
// other (only the presenter does, with the count), that a device connecting
// late hears of the running broadcast, that a viewer leaving touches nobody
// else, that broadcast_max bounds the viewers, and that the presenter
// leaving ends the broadcast for everyone and closes every session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, PORT_BASE, sleep } from './lib.mjs';
import { MediadRig, skip } from './mediad_rig.mjs';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const VIEWERS_MAX = 3;

const srv = new Server('call-broadcast', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, users: USERS,
  config: `media_socket = "MEDIA_SOCKET"; broadcast_max = ${VIEWERS_MAX};` });
const rig = new MediadRig(srv);
const mediad = (req) => rig.request(req);
const dev = {}; // name -> { ws, session }

// An offer of one audio and one video m-line in direction dir; ssrc
// [audio, video] when it sends (video with an FID group, as Chromium writes it).
function offer(dir, ssrc) {
  let body = '';
  for (const [mid, kind] of ['audio', 'video'].entries()) {
    body += kind === 'audio'
      ? 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n'
      : 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n';
    body += `a=mid:${mid}\r\na=rtcp-mux\r\na=${dir}\r\n`;
    if (ssrc && kind === 'audio') body += `a=ssrc:${ssrc[0]} cname:t\r\n`;
    if (ssrc && kind === 'video') body += `a=ssrc-group:FID ${ssrc[1]} ${ssrc[1] + 1}\r\na=ssrc:${ssrc[1]} cname:t\r\na=ssrc:${ssrc[1] + 1} cname:t\r\n`;
  }
  const fp = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');
  return 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
    'a=group:BUNDLE 0 1\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n' +
    `a=fingerprint:sha-256 ${fp}\r\na=setup:actpass\r\n${body}`;
}

const connOf = (name) => dev[name].ws.helloReply.conn;
// The call events a device heard and nobody took yet, but its pairs.
const callEvents = (name) => dev[name].ws.events.filter((e) => e.event?.startsWith('call.') && e.event !== 'call.sfu.pairs').map((e) => e.event);

async function until(what, fn) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > 10000) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}

// The last call.sfu.pairs a device heard (waiting for one).
async function pairsOf(name) {
  const d = dev[name];
  return until(`${name}'s pairs`, () => {
    let i;
    while ((i = d.ws.events.findIndex((e) => e.event === 'call.sfu.pairs')) >= 0) d.pairs = d.ws.events.splice(i, 1)[0].data.pairs;
    return d.pairs;
  });
}

// mediad's room sessions: the presenter's has no slots; each viewer's has
// slot 0 on the presenter's audio and slot 1 on its video.
async function mediadAgrees(viewers, ssrc) {
  let rooms;
  await until(`mediad with ${viewers.length} viewers of ${ssrc}: ${JSON.stringify(rooms)}`, async () => {
    rooms = (await mediad({ cmd: 'stats' })).sessions.filter((s) => s.room).map((s) => s.room.slots.map((x) => x.ssrc_src));
    return rooms.length === viewers.length + 1 && rooms.filter((sl) => sl.length === 0).length === 1 &&
      rooms.filter((sl) => sl.length === 2 && sl[0] === ssrc[0] && sl[1] === ssrc[1]).length === viewers.length;
  });
}

async function view(name, callId) {
  await dev[name].ws.request('call.accept', { call: callId });
  dev[name].pairs = null;
  const answer = await dev[name].ws.request('call.sfu.offer', { call: callId, sdp: offer('recvonly') });
  assert.equal([...answer.sdp.matchAll(/a=ssrc:\d+ cname:lanturn-room/g)].length, 2, 'a slot per m-line');
  assert.deepEqual(await pairsOf(name), [{ pair: 0, user: dev.alice.session.user.id, conn: connOf('alice') }]);
}

before(async () => { if (!skip) await rig.start(USERS, dev); });
after(async () => { if (!skip) await rig.stop(dev); });

test('viewers receive the presenter\'s streams and publish nothing; viewers hear nothing of each other; a device connecting late hears of it; a viewer leaving touches nobody; broadcast_max bounds them; the presenter leaving ends it all', { skip, timeout: 120000 }, async () => {
  const { alice } = dev;
  const others = USERS.filter((u) => u !== 'alice').map((u) => dev[u].session.user.id);
  const room = (await alice.ws.request('room.create', { name: 'department', members: others })).room;
  const { call } = await alice.ws.request('call.invite', { room: room.id, media: 'video', broadcast: true });
  assert.equal(call.mode, 'sfu');
  assert.equal(call.broadcast, true);
  assert.equal(call.active, true, 'a broadcast runs without waiting for anyone');
  const ssrc = [5000, 5010];
  const answer = await alice.ws.request('call.sfu.offer', { call: call.id, sdp: offer('sendonly', ssrc) });
  assert.match(answer.sdp, /^v=0/);
  assert.deepEqual(await pairsOf('alice'), [], 'the presenter receives nothing');

  // a viewer that would publish is refused, and may offer again
  await dev.bob.ws.next('call.incoming');
  await dev.bob.ws.request('call.accept', { call: call.id });
  await assert.rejects(dev.bob.ws.request('call.sfu.offer', { call: call.id, sdp: offer('sendrecv', [7, 8]) }), { code: 'bad_request' });
  dev.bob.pairs = null;
  await dev.bob.ws.request('call.sfu.offer', { call: call.id, sdp: offer('recvonly') });
  assert.deepEqual(await pairsOf('bob'), [{ pair: 0, user: alice.session.user.id, conn: connOf('alice') }]);
  await mediadAgrees(['bob'], ssrc);
  // viewers hear nothing of each other; the presenter hears each one come, with the count
  dev.bob.ws.events.length = 0;
  await view('carol', call.id);
  await view('dave', call.id);
  await mediadAgrees(['bob', 'carol', 'dave'], ssrc);
  await dev.bob.ws.request('call.list', {}); // what signald sent bob before this reply has come
  assert.deepEqual(callEvents('bob'), [], 'a viewer hears nothing of the others joining');
  assert.deepEqual(alice.ws.events.filter((e) => e.event === 'call.joined').map((e) => [e.data.user, e.data.viewers]),
    [['bob', 1], ['carol', 2], ['dave', 3]].map(([n, v]) => [dev[n].session.user.id, v]));
  await assert.rejects(dev.erin.ws.request('call.accept', { call: call.id }), { code: 'unavailable', message: /broadcast is full/ });

  // carol leaves: the presenter hears call.left and nothing else, the viewers nothing; their slots stay where they are
  for (const n of ['alice', 'bob', 'dave']) dev[n].ws.events.length = 0;
  await dev.carol.ws.request('call.hangup', { call: call.id });
  await mediadAgrees(['bob', 'dave'], ssrc);
  assert.equal((await alice.ws.next('call.left')).data.viewers, 2);
  assert.deepEqual(callEvents('alice'), [], 'the presenter heard only call.left');
  for (const n of ['bob', 'dave']) {
    await dev[n].ws.request('call.list', {});
    assert.deepEqual(callEvents(n), [], `${n} heard nothing of carol leaving`);
  }
  // a device that connects late hears of the running broadcast (its user may watch);
  // the presenter's and a watching viewer's new devices do not
  const late = {};
  for (const n of ['erin', 'alice', 'bob']) late[n] = await srv.connect(dev[n].session);
  const inc = await late.erin.next('call.incoming');
  assert.equal(inc.data.call.id, call.id);
  assert.equal(inc.data.call.broadcast, true);
  assert.equal(inc.data.from_conn, connOf('alice'));
  for (const n of ['alice', 'bob']) {
    await late[n].request('call.list', {});
    assert.deepEqual(late[n].events.filter((e) => e.event === 'call.incoming'), [], `${n}'s new device hears no invitation`);
  }
  for (const n of ['erin', 'alice', 'bob']) await late[n].close();
  // her place is free; a viewer that disconnects leaves like one that hangs up
  await view('erin', call.id);
  await mediadAgrees(['bob', 'dave', 'erin'], ssrc);
  await dev.dave.ws.close();
  await mediadAgrees(['bob', 'erin'], ssrc);
  await view('frank', call.id);
  // all viewers gone but one: the broadcast goes on
  await dev.bob.ws.request('call.hangup', { call: call.id });
  await dev.erin.ws.request('call.hangup', { call: call.id });
  await mediadAgrees(['frank'], ssrc);
  assert.equal((await alice.ws.request('call.list', {})).calls.length, 1);

  // the presenter leaves: everyone hears the end, mediad's sessions and room go
  for (const n of ['bob', 'frank']) dev[n].ws.events.length = 0;
  await alice.ws.request('call.hangup', { call: call.id });
  for (const n of ['bob', 'frank']) assert.equal((await dev[n].ws.next('call.ended')).data.reason, 'hangup');
  await until('mediad empty', async () => (await mediad({ cmd: 'stats' })).sessions_now === 0);
  assert.deepEqual((await mediad({ cmd: 'room.stats' })).rooms, []);
  assert.deepEqual((await alice.ws.request('call.list', {})).calls, []);
  assert.doesNotMatch(srv.logText(), /call_sfu_switch_refused/, 'no switch had to be repaired');
});

test('without a running mediad, a broadcast is unavailable', { skip, timeout: 30000 }, async () => {
  // signald's media_socket is set: what fails is the presenter's offer
  await rig.killMediad();
  const { alice, frank } = dev;
  const dm = (await alice.ws.request('room.direct', { user: frank.session.user.id })).room;
  const { call } = await alice.ws.request('call.invite', { room: dm.id, media: 'video', broadcast: true });
  await assert.rejects(alice.ws.request('call.sfu.offer', { call: call.id, sdp: offer('sendonly', [1, 11]) }), { code: 'unavailable' });
  await alice.ws.request('call.hangup', { call: call.id });
});
