// room.e2e.test.mjs - mediad's room mode in headless Chromium: one page sends
// its fake camera and microphone into a room, another page that only receives
// joins the same room, both relay-only through turnd (DTLS-SRTP over ICE,
// relay <-> relay on 127.0.0.1). Checks that the receiver decodes the
// publisher's video and gets its audio on mediad's SSRCs (rewritten headers,
// no header extensions), that mediad's figures agree, and that the room is
// gone with its last member.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MediaRig, missing, sleep } from './media_rig.mjs';

const skip = missing && `${missing} is missing`;
const rig = new MediaRig('room', { base: Number(process.env.LANTURN_PORT_BASE || 30000), page: 'room.html',
  offer: (sdp) => ({ cmd: 'room.offer', room: 'e2e', sdp, relay_only: true }) });
const control = (req) => rig.control(req);
const log = rig.log;

before(async () => { if (!skip) await rig.start(); });
after(() => rig.stop());

async function member(send) {
  const page = await rig.newPage();
  const joined = await page.evaluate((t) => window.joinRoom(t), { ...rig.turn('room-e2e'), send });
  return { page, ...joined };
}

test('a receiver in the room decodes the publisher\'s video and gets its audio through mediad', { skip, timeout: 90000 }, async () => {
  const pub = await member(true);
  const sub = await member(false);
  assert.match(sub.answer, /a=sendonly/, 'mediad sends on the receiver\'s m-lines');
  const ssrcs = [...sub.answer.matchAll(/a=ssrc:(\d+) cname:lanturn-room/g)].map((m) => Number(m[1]));
  assert.equal(ssrcs.length, 2, 'one SSRC of mediad\'s per received stream');

  let first;
  const t0 = Date.now();
  for (;;) {
    first = await sub.page.evaluate(() => window.roomStats());
    if (first.state === 'connected' && first.framesDecoded > 0 && first.audioBytes > 0) break;
    if (Date.now() - t0 > 30000) throw new Error(`nothing arrives: ${JSON.stringify(first)}\n${log.join('')}`);
    await sleep(250);
  }
  await sleep(3000);
  const second = await sub.page.evaluate(() => window.roomStats());
  const sent = await pub.page.evaluate(() => window.roomStats());
  const server = await control({ cmd: 'stats', id: sub.id });
  const rooms = await control({ cmd: 'room.stats', room: 'e2e' });
  console.log('receiver', JSON.stringify(second), '\npublisher', JSON.stringify(sent),
    '\nmediad', JSON.stringify(server.session.room), JSON.stringify(rooms));

  assert.ok(second.framesDecoded > first.framesDecoded + 20, `frames decode: ${first.framesDecoded} -> ${second.framesDecoded}`);
  assert.ok(second.frameWidth > 0);
  assert.ok(second.audioBytes > first.audioBytes, `audio grows: ${first.audioBytes} -> ${second.audioBytes}`);
  assert.ok(ssrcs.includes(second.videoSsrc) && ssrcs.includes(second.audioSsrc), 'media comes on mediad\'s SSRCs');
  assert.ok(sent.pliCount >= 1, 'the publisher was asked for a keyframe when the receiver joined');

  const r = server.session.room;
  assert.equal(r.room, 'e2e');
  assert.equal(r.slots.length, 2);
  for (const slot of r.slots) {
    assert.ok(slot.ssrc_src > 0 && slot.tx_packets > 50, `slot fed by the publisher: ${JSON.stringify(slot)}`);
  }
  assert.equal(server.session.srtp_errors, 0);
  assert.equal(rooms.rooms[0].members, 2);
  assert.ok(rooms.rooms[0].sent > 100 && rooms.rooms[0].send_errors === 0, JSON.stringify(rooms));

  for (const m of [pub, sub]) assert.equal((await control({ cmd: 'close', id: m.id })).ok, true);
  assert.deepEqual((await control({ cmd: 'room.stats' })).rooms, [], 'the room is gone with its last member');
});

test('room commands refuse what does not exist', { skip, timeout: 20000 }, async () => {
  const none = await control({ cmd: 'room.offer', sdp: 'v=0\r\n' });
  assert.equal(none.ok, false);
  assert.match(none.error, /needs "room"/);
  assert.equal((await control({ cmd: 'room.switch', id: 'room-none', slot: 0, ssrc: 1 })).ok, false);
  assert.equal((await control({ cmd: 'room.stats', room: 'nowhere' })).error, 'no such room');
  assert.equal((await control({ cmd: 'room.nope' })).ok, false);
});

test('mediad stops cleanly on SIGTERM after a room (no leaks under the sanitizers)', { skip, timeout: 20000 }, async () => {
  assert.equal(await rig.stopMediad(), 0, log.filter((l) => l.startsWith('[mediad]')).join(''));
});
