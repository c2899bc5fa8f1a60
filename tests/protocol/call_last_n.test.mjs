// call_last_n.test.mjs - an SFU call of more devices than a device has pairs,
// through the real signald, turnd and mediad. alice offers two pairs (an
// offer written here, no media); the others are media-load speakers (real
// ICE, DTLS-SRTP and RTP with audio levels), whose one sendrecv audio m-line
// is their only pair. A speaker that is not on a device's pairs is switched
// onto them when it becomes the speaker, in place of the pair whose device
// spoke longest ago; it is never switched onto its own device; a newcomer's
// pair takes the latest speaker, and so does a pair that a leaver frees;
// mediad's slots agree; and a join beyond call_sfu_max is refused with an
// error that names it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Server, PORT_BASE, sleep } from './lib.mjs';
import { MediadRig, sfuOffer, skip as noMediad } from './mediad_rig.mjs';

const MEDIA_LOAD = process.env.MEDIA_LOAD;
const skip = noMediad || ((!MEDIA_LOAD || !existsSync(MEDIA_LOAD)) && 'media-load missing');
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const LOUD = 20; // -dBov
const SILENT = 127; // RFC 6464: silence

const srv = new Server('call-last-n', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, users: USERS,
  // media-load has host candidates only: mediad must offer its own, not just turnd's relay
  config: 'media_socket = "MEDIA_SOCKET"; ice_transport_policy = "all"; call_sfu_max = 5;' });
const rig = new MediadRig(srv, ['--idle-timeout', '300']); // alice's session has no media
const dev = {}; // name -> { ws, session, ssrc (audio), seen: every call.sfu.pairs it got }

const connOf = (n) => dev[n].ws.helloReply.conn;
const nameOf = (conn) => USERS.find((n) => connOf(n) === conn);

async function speak(name, callId, level, seconds) {
  const s = await rig.speak(MEDIA_LOAD, dev[name].ws, name, callId, level, seconds);
  dev[name].ssrc = Number(/a=ssrc:(\d+) /.exec(s.offer)[1]);
  assert.equal(await s.heard('connected'), true, `${name} connected to mediad`);
  return s;
}

// Waits for the call.sfu.pairs that gives name exactly want (pair -> who).
async function pairsAre(name, want, why) {
  const d = dev[name];
  const shown = (ps) => ps.map((p) => `${p.pair}:${nameOf(p.conn)}`).join(',');
  const t0 = Date.now();
  for (;;) {
    const e = await d.ws.next('call.sfu.pairs', Math.max(1, 15000 - (Date.now() - t0)))
      .catch(() => { throw new Error(`${name}: pairs ${d.seen.length ? shown(d.seen.at(-1)) : 'none'}, wanted ${want} (${why})`); });
    d.seen.push(e.data.pairs);
    if (shown(e.data.pairs) === want) return;
  }
}

// mediad agrees: alice's session receives these devices' audio on her audio slots 0 and 2.
async function aliceReceives(names) {
  const want = names.map((n) => dev[n].ssrc);
  const t0 = Date.now();
  let got;
  for (;;) {
    const st = await rig.request({ cmd: 'stats' });
    const s = st.sessions.find((x) => x.room && x.room.slots.length === 4);
    got = s && [0, 2].map((slot) => s.room.slots.find((x) => x.slot === slot).ssrc_src);
    if (got && got.every((v, i) => v === want[i])) return;
    if (Date.now() - t0 > 10000) throw new Error(`alice's audio slots carry ${got}, not ${want} (${names})`);
    await sleep(100);
  }
}

before(async () => { if (!skip) { await rig.start(USERS, dev); for (const n of USERS) dev[n].seen = []; } });
after(async () => { if (!skip) await rig.stop(dev); });

test('the speaker replaces the pair whose device spoke longest ago, never on its own device; a newcomer and a freed pair get the latest speaker; a join beyond call_sfu_max is refused', { skip, timeout: 120000 }, async () => {
  const { alice, bob, carol, dave, erin, frank } = dev;
  const others = ['bob', 'carol', 'dave', 'erin', 'frank'].map((n) => dev[n].session.user.id);
  const room = (await alice.ws.request('room.create', { name: 'last n', members: others })).room;
  const { call } = await alice.ws.request('call.invite', { room: room.id, media: 'audio', sfu: true });
  const isSpeaker = (who) => (e) => e.event === 'call.speaker' && e.data.conn === connOf(who);
  alice.ssrc = 7000;
  await alice.ws.request('call.sfu.offer', { call: call.id, sdp: sfuOffer([7000, 7010], 2) });

  // carol and dave (silent) take alice's two pairs; alice is on their one pair
  for (const n of ['carol', 'dave']) {
    await dev[n].ws.next('call.incoming');
    await dev[n].ws.request('call.accept', { call: call.id });
    await speak(n, call.id, SILENT, 60);
    await pairsAre(n, '0:alice', `${n} joined`);
  }
  await pairsAre('alice', '0:carol,1:dave', 'carol and dave joined');

  // bob joins talking: alice has no free pair, so he is not on hers until he
  // is the speaker; then carol's pair (tied with dave: neither spoke; the
  // lower one) is his, and every other device's one pair too, but not his own
  await bob.ws.next('call.incoming');
  await bob.ws.request('call.accept', { call: call.id });
  const b = await speak('bob', call.id, LOUD, 4);
  await pairsAre('bob', '0:alice', 'bob joined');
  for (const n of ['alice', 'bob', 'carol', 'dave']) await dev[n].ws.next(isSpeaker('bob'), 15000);
  await pairsAre('alice', '0:bob,1:dave', 'bob speaks');
  for (const n of ['carol', 'dave']) await pairsAre(n, '0:bob', 'bob speaks');
  await aliceReceives(['bob', 'dave']);
  await b.exited;

  // erin joins after bob spoke: her one pair takes him, the latest speaker
  await erin.ws.next('call.incoming');
  await erin.ws.request('call.accept', { call: call.id });
  const e = await speak('erin', call.id, LOUD, 4);
  await pairsAre('erin', '0:bob', 'erin joined: bob spoke last');
  // erin speaks: on alice's pairs she replaces dave (never spoke), not bob (spoke before her)
  for (const n of ['alice', 'bob', 'carol', 'dave', 'erin']) await dev[n].ws.next(isSpeaker('erin'), 15000);
  await pairsAre('alice', '0:bob,1:erin', 'erin speaks');
  for (const n of ['bob', 'carol', 'dave']) await pairsAre(n, '0:erin', 'erin speaks');
  await aliceReceives(['bob', 'erin']);
  await e.exited;

  // a speaker is never put on its own device's pairs, and its device heard no switch for it
  await sleep(300);
  for (const n of ['alice', 'bob', 'carol', 'dave', 'erin']) {
    for (let i; (i = dev[n].ws.events.findIndex((x) => x.event === 'call.sfu.pairs')) >= 0;) dev[n].seen.push(dev[n].ws.events.splice(i, 1)[0].data.pairs);
    for (const ps of dev[n].seen) assert.ok(!ps.some((p) => p.conn === connOf(n)), `${n} never sees itself`);
  }
  assert.equal(erin.seen.length, 1, 'erin heard no switch when she spoke');

  // five devices is call_sfu_max: frank is refused, and told why
  await frank.ws.next('call.incoming');
  await assert.rejects(frank.ws.request('call.accept', { call: call.id }),
    { code: 'unavailable', message: /call is full \(call_sfu_max = 5 devices\)/ });

  // erin leaves: the pairs that carried her go to whom each device should see next, the latest
  // speaker first (bob, not alice who comes first in the call's order and never spoke)
  await erin.ws.request('call.hangup', { call: call.id });
  for (const n of ['carol', 'dave']) await pairsAre(n, '0:bob', 'erin left: bob spoke last');
  await pairsAre('bob', '0:alice', 'erin left: bob never sees himself');
  assert.doesNotMatch(srv.logText(), /call_sfu_switch_refused/, 'mediad took every switch');
  for (const n of ['bob', 'carol', 'dave']) await dev[n].ws.request('call.hangup', { call: call.id }).catch(() => {});
  await alice.ws.request('call.hangup', { call: call.id }).catch(() => {});
  await sleep(100);
});
