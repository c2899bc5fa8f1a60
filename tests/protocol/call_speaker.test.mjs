// call_speaker.test.mjs - active speaker detection through the real signald,
// turnd and mediad: three devices of an SFU call are media-load speakers
// (real ICE, DTLS-SRTP and RTP with the RFC 6464 audio level), their offers
// and answers passed through call.sfu.offer. The one that speaks becomes the
// call's speaker on every device (call.speaker), a device that joins later is
// told at once, the silent ones never take it, and when the speaker leaves
// every device hears that nobody is.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Server, PORT_BASE, sleep } from './lib.mjs';
import { MediadRig, skip as noMediad } from './mediad_rig.mjs';

const MEDIA_LOAD = process.env.MEDIA_LOAD;
const skip = noMediad || ((!MEDIA_LOAD || !existsSync(MEDIA_LOAD)) && 'media-load missing');
const USERS = ['alice', 'bob', 'carol'];
const LOUD = 20; // -dBov, a talker close to the microphone
const SILENT = 127; // RFC 6464: silence

const srv = new Server('call-speaker', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, users: USERS,
  // media-load has host candidates only: mediad must offer its own, not just turnd's relay
  config: 'media_socket = "MEDIA_SOCKET"; call_mesh_max = 2; ice_transport_policy = "all";' });
const rig = new MediadRig(srv);
const dev = {};

const speak = (name, callId, level, seconds) => rig.speak(MEDIA_LOAD, dev[name].ws, name, callId, level, seconds);

before(async () => { if (!skip) await rig.start(USERS, dev); });
after(async () => { if (!skip) await rig.stop(dev); });

test('the device that speaks becomes every device\'s call.speaker, one that joins later hears it at once, the silent ones never take it, and its leaving leaves nobody', { skip, timeout: 90000 }, async () => {
  const { alice, bob, carol } = dev;
  const room = (await alice.ws.request('room.create', { name: 'speakers', members: [bob.session.user.id, carol.session.user.id] })).room;
  const { call } = await alice.ws.request('call.invite', { room: room.id, media: 'audio', sfu: true });
  assert.equal(call.mode, 'sfu');
  await carol.ws.next('call.incoming');
  await carol.ws.request('call.accept', { call: call.id });
  const connOf = (n) => dev[n].ws.helloReply.conn;
  // alice stays silent for the whole test; carol talks for 4 s once connected
  const a = await speak('alice', call.id, SILENT, 30);
  const c = await speak('carol', call.id, LOUD, 4);
  for (const s of [a, c]) {
    // mediad answers the audio level with the id the offer gave it (media-load's 3, not Chromium's 1)
    assert.match(s.sdp, /a=extmap:3 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n/);
    assert.equal(await s.heard('connected'), true);
  }
  const isSpeaker = (e) => e.event === 'call.speaker';
  const carolSpeaks = (e, n) => {
    assert.equal(e.data.call, call.id);
    assert.equal(e.data.conn, connOf('carol'), `${n} hears carol as the speaker`);
    assert.equal(e.data.user, carol.session.user.id);
  };
  for (const n of ['alice', 'carol']) carolSpeaks(await dev[n].ws.next(isSpeaker, 15000), n);

  // bob joins while carol has the floor: he is told at once, with no change to wait for
  await bob.ws.next('call.incoming');
  await bob.ws.request('call.accept', { call: call.id });
  const b = await speak('bob', call.id, SILENT, 30);
  carolSpeaks(await bob.ws.next(isSpeaker, 5000), 'bob');
  assert.equal(await b.heard('connected'), true);

  // carol stops talking: silence (alice's and bob's) never takes the floor from her
  assert.ok((await c.heard('sent')) >= 150, 'carol sent 4 s of 20 ms packets');
  await c.exited;
  for (const n of ['alice', 'bob']) await dev[n].ws.none(isSpeaker, 2000);

  // carol leaves: the others hear that nobody is the speaker
  await carol.ws.request('call.hangup', { call: call.id });
  for (const n of ['alice', 'bob']) {
    const e = await dev[n].ws.next(isSpeaker, 10000);
    assert.equal(e.data.call, call.id);
    assert.equal(e.data.conn, null);
    assert.equal(e.data.user, null);
  }
  // silence in a room with nobody speaking gives no event either
  for (const n of ['alice', 'bob']) await dev[n].ws.none(isSpeaker, 1500);
  const rooms = (await rig.request({ cmd: 'room.stats', room: call.id })).rooms;
  assert.equal(rooms[0].members, 2);
  assert.ok(rooms[0].rx_packets > 150, 'mediad received their audio');
  await alice.ws.request('call.hangup', { call: call.id });
  await bob.ws.request('call.hangup', { call: call.id }).catch(() => {});
  await sleep(100);
});
