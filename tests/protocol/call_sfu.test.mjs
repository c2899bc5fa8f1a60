// call_sfu.test.mjs - group calls through mediad: the real signald, turnd and
// mediad (room mode), with offers written here (no browser: no media flows,
// but mediad answers, publishes and switches slots all the same). Checks the
// call's mode, that every device's pairs carry the others' streams in
// mediad as signald announces them, leaving and rejoining, the limit of
// devices, and that mediad's sessions and room go with the call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, PORT_BASE, sleep } from './lib.mjs';
import { MediadRig, sfuOffer, skip } from './mediad_rig.mjs';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank'];
const PAIRS = 6;

const srv = new Server('call-sfu', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, users: USERS,
  config: `media_socket = "MEDIA_SOCKET"; call_mesh_max = 2; call_sfu_max = 7;` });
const rig = new MediadRig(srv);
const mediad = (req) => rig.request(req);
const dev = {}; // name -> { ws, session (login), ssrc: [audio, video], pairs }

const offer = (ssrc) => sfuOffer(ssrc, PAIRS);

let nextSsrc = 1000;
async function join_(name, callId) {
  const d = dev[name];
  d.ssrc = [nextSsrc, nextSsrc + 10];
  nextSsrc += 100;
  d.pairs = null;
  const answer = await d.ws.request('call.sfu.offer', { call: callId, sdp: offer(d.ssrc) });
  assert.match(answer.sdp, /^v=0/);
  assert.equal([...answer.sdp.matchAll(/a=ssrc:\d+ cname:lanturn-room/g)].length, 2 * PAIRS, 'a slot per m-line');
  return answer;
}

// The last call.sfu.pairs each device heard, waiting for more until pred holds.
async function pairsOf(name, pred, what) {
  const d = dev[name];
  const t0 = Date.now();
  for (;;) {
    let m;
    while ((m = d.ws.events.findIndex((e) => e.event === 'call.sfu.pairs')) >= 0) d.pairs = d.ws.events.splice(m, 1)[0].data.pairs;
    if (d.pairs && pred(d.pairs)) return d.pairs;
    if (Date.now() - t0 > 10000) throw new Error(`${name}: pairs ${JSON.stringify(d.pairs)}, wanted ${what}`);
    await sleep(50);
  }
}

const connOf = (name) => dev[name].ws.helloReply.conn;
const expect = (names) => (pairs) => pairs.length === names.length && names.every((n) => pairs.some((p) => p.conn === connOf(n)));

// mediad agrees: each device's session receives each announced device's
// audio on slot 2j and video on slot 2j+1, and nothing on the other slots.
async function mediadAgrees(inCall) {
  const t0 = Date.now();
  let why;
  for (;;) {
    const st = await mediad({ cmd: 'stats' });
    const rooms = st.sessions.filter((s) => s.room);
    why = '';
    if (rooms.length !== inCall.length) why = `${rooms.length} room sessions, not ${inCall.length}`;
    for (const name of inCall) {
      const want = new Map(); // slot -> source
      for (const p of dev[name].pairs) {
        const other = inCall.find((n) => connOf(n) === p.conn);
        want.set(2 * p.pair, dev[other].ssrc[0]);
        want.set(2 * p.pair + 1, dev[other].ssrc[1]);
      }
      const mine = rooms.find((s) => s.room.slots.every((sl) => (want.get(sl.slot) || 0) === sl.ssrc_src));
      if (!mine) why += ` ${name}: no session with slots ${JSON.stringify([...want])};`;
    }
    if (!why) return;
    if (Date.now() - t0 > 10000) {
      throw new Error(`${why}\n${JSON.stringify(rooms.map((s) => s.room.slots.map((x) => x.ssrc_src)))}`);
    }
    await sleep(100);
  }
}

before(async () => { if (!skip) await rig.start(USERS, dev); });
after(async () => { if (!skip) await rig.stop(dev); });

test('a call of more members than call_mesh_max, or asked for with "sfu", goes through mediad; others stay a mesh', { skip }, async () => {
  const { alice, bob, carol } = dev;
  const dm = (await alice.ws.request('room.direct', { user: bob.session.user.id })).room;
  const mesh = (await alice.ws.request('call.invite', { room: dm.id, media: 'video' })).call;
  assert.equal(mesh.mode, 'mesh');
  assert.equal(mesh.pairs, undefined);
  await assert.rejects(alice.ws.request('call.sfu.offer', { call: mesh.id, sdp: offer([1, 2]) }), { code: 'conflict' });
  await alice.ws.request('call.cancel', { call: mesh.id });
  const forced = (await alice.ws.request('call.invite', { room: dm.id, media: 'video', sfu: true })).call;
  assert.equal(forced.mode, 'sfu');
  assert.equal(forced.pairs, PAIRS);
  await alice.ws.request('call.cancel', { call: forced.id });
  const trio = (await alice.ws.request('room.create', { name: 'trio', members: [bob.session.user.id, carol.session.user.id] })).room;
  const big = (await alice.ws.request('call.invite', { room: trio.id, media: 'video' })).call;
  assert.equal(big.mode, 'sfu', '3 members > call_mesh_max 2');
  // only a device in the call may offer, and only an SDP offer
  await assert.rejects(bob.ws.request('call.sfu.offer', { call: big.id, sdp: offer([1, 2]) }), { code: 'not_found' });
  await assert.rejects(alice.ws.request('call.sfu.offer', { call: big.id, sdp: 'hello' }), { code: 'bad_request' });
  await alice.ws.request('call.cancel', { call: big.id });
  for (const d of Object.values(dev)) d.ws.events.length = 0;
});

// Each of names accepts and joins in turn; after each, every device's pairs
// carry all the others and mediad agrees.
async function acceptInTurn(names, callId, inCall) {
  for (const name of names) {
    await dev[name].ws.request('call.accept', { call: callId });
    await join_(name, callId);
    inCall.push(name);
    for (const n of inCall) await pairsOf(n, expect(inCall.filter((x) => x !== n)), `with ${name}`);
    await mediadAgrees(inCall);
  }
}

test('every device\'s pairs carry the others\' streams in mediad; leaving frees them, rejoining fills them; 7 devices at most; the call\'s end closes every session', { skip, timeout: 120000 }, async () => {
  const { alice } = dev;
  const everyone = USERS.map((u) => dev[u].session.user.id).filter((id) => id !== alice.session.user.id);
  const room = (await alice.ws.request('room.create', { name: 'all hands', members: everyone })).room;
  const { call } = await alice.ws.request('call.invite', { room: room.id, media: 'video' });
  assert.equal(call.mode, 'sfu');
  await join_('alice', call.id);
  await assert.rejects(alice.ws.request('call.sfu.offer', { call: call.id, sdp: offer([7, 8]) }), { code: 'conflict' });

  const inCall = ['alice'];
  for (const name of ['bob', 'carol']) {
    await dev[name].ws.next('call.incoming');
    await dev[name].ws.request('call.accept', { call: call.id });
    await join_(name, call.id);
    inCall.push(name);
    for (const n of inCall) await pairsOf(n, expect(inCall.filter((x) => x !== n)), inCall.join());
    await mediadAgrees(inCall);
  }
  // carol came last: alice on her pair 0, bob on pair 1; alice and bob got her on their lowest free pair
  assert.deepEqual(dev.carol.pairs.map((p) => [p.pair, p.conn]), [[0, connOf('alice')], [1, connOf('bob')]]);
  assert.equal(dev.alice.pairs.find((p) => p.conn === connOf('carol')).pair, 1);

  // bob leaves: his session is closed, the others' pairs that carried him are switched to nothing
  await dev.bob.ws.request('call.hangup', { call: call.id });
  inCall.splice(inCall.indexOf('bob'), 1);
  for (const n of inCall) await pairsOf(n, expect(inCall.filter((x) => x !== n)), 'without bob');
  await mediadAgrees(inCall);
  // dave takes the pair bob left; bob comes back on the same device with new streams
  await acceptInTurn(['dave', 'bob'], call.id, inCall);
  assert.equal(dev.alice.pairs.find((p) => p.conn === connOf('dave')).pair, 0);
  assert.equal(dev.alice.pairs.find((p) => p.conn === connOf('bob')).pair, 2);
  // erin: mediad by itself would bind her slots in the order its streams were published
  // (alice, dave, carol, bob); signald's order is the call's (alice, bob, carol, dave)
  await dev.erin.ws.request('call.accept', { call: call.id });
  await join_('erin', call.id);
  inCall.push('erin');
  for (const n of inCall) await pairsOf(n, expect(inCall.filter((x) => x !== n)), 'five devices');
  assert.deepEqual(dev.erin.pairs.map((p) => [p.pair, p.conn]), ['alice', 'bob', 'carol', 'dave'].map((n, j) => [j, connOf(n)]));
  await mediadAgrees(inCall);
  // frank and gina fill the call: each of the seven hears the other six on its six pairs
  await acceptInTurn(['frank', 'gina'], call.id, inCall);
  assert.equal(dev.gina.pairs.length, PAIRS);
  await assert.rejects(dev.hank.ws.request('call.accept', { call: call.id }), { code: 'unavailable', message: /call_sfu_max = 7/ });

  // a device that disconnects leaves like one that hangs up
  await dev.dave.ws.close();
  inCall.splice(inCall.indexOf('dave'), 1);
  for (const n of inCall) await pairsOf(n, expect(inCall.filter((x) => x !== n)), 'without dave');
  await mediadAgrees(inCall);

  for (const n of inCall.slice(1)) await dev[n].ws.request('call.hangup', { call: call.id });
  const t0 = Date.now();
  while ((await mediad({ cmd: 'room.stats' })).rooms.length && Date.now() - t0 < 10000) await sleep(100);
  assert.deepEqual((await mediad({ cmd: 'room.stats' })).rooms, [], 'the room is gone with the call');
  assert.equal((await mediad({ cmd: 'stats' })).sessions_now, 0);
  assert.doesNotMatch(srv.logText(), /call_sfu_switch_refused/, 'no switch had to be repaired');
});

test('without a running mediad an SFU offer fails with unavailable and the device can try again', { skip, timeout: 30000 }, async () => {
  await rig.killMediad();
  const { frank, alice } = dev;
  const dm = (await alice.ws.request('room.direct', { user: frank.session.user.id })).room;
  const { call } = await alice.ws.request('call.invite', { room: dm.id, media: 'video', sfu: true });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(alice.ws.request('call.sfu.offer', { call: call.id, sdp: offer([1, 2]) }), { code: 'unavailable' });
  }
  await alice.ws.request('call.cancel', { call: call.id });
});
