// echo.e2e.test.mjs - "test my call" in headless Chromium against mediad:
// the page sends its fake camera and microphone relay-only through turnd to
// mediad, which sends them back (DTLS-SRTP over ICE, relay <-> relay on
// 127.0.0.1). Checks that inbound audio and video grow, frames decode, the
// selected pair is relay/relay and both sides measure a round-trip time;
// then closes the session through the control socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MediaRig, measureEcho, missing } from './media_rig.mjs';

const skip = missing && `${missing} is missing`;
const rig = new MediaRig('echo', { base: Number(process.env.LANTURN_PORT_BASE || 28800), page: 'echo.html',
  offer: (sdp) => ({ cmd: 'echo.offer', sdp, relay_only: true, req: 1 }) });
const control = (req) => rig.control(req);
const log = rig.log;
let page;

before(async () => {
  if (skip) return;
  await rig.start();
  page = await rig.newPage();
});

after(() => rig.stop());

test('the browser gets its own audio and video back from mediad, relay-only through turnd', { skip, timeout: 60000 }, async () => {
  const { id, answer } = await page.evaluate((t) => window.startEcho(t), rig.turn('echo-e2e'));
  assert.match(answer, /a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  assert.match(answer, /typ relay/, 'mediad offers only relay candidates');
  assert.doesNotMatch(answer, /typ host/);

  const { first, second, server } = await measureEcho(page, control, id, 20000, log);

  assert.equal(second.state, 'connected');
  assert.equal(second.local, 'relay', 'the browser sends through turnd');
  assert.equal(second.remote, 'relay', 'mediad answers through turnd too');
  assert.ok(second.videoBytes > first.videoBytes, `inbound video grows: ${first.videoBytes} -> ${second.videoBytes}`);
  assert.ok(second.audioBytes > first.audioBytes, `inbound audio grows: ${first.audioBytes} -> ${second.audioBytes}`);
  assert.ok(second.framesDecoded > first.framesDecoded + 20, `frames decode: ${first.framesDecoded} -> ${second.framesDecoded}`);
  assert.ok(second.frameWidth > 0);
  // mediad answers the browser's sender reports, so the browser measures a round trip
  assert.ok(second.videoRtt > 0 && second.videoRtt < 1, `browser-side RTT ${second.videoRtt}`);

  const s = server.session;
  assert.equal(s.state, 'connected');
  assert.deepEqual(s.pair, { local: 'relay', remote: 'relay', transport: 'udp' });
  assert.match(s.srtp, /AEAD_AES_128_GCM|AES_CM_128_HMAC_SHA1_80/);
  assert.equal(s.srtp_errors, 0);
  for (const kind of ['audio', 'video']) {
    const st = s.streams.find((x) => x.kind === kind);
    assert.ok(st && st.rx_packets > 50 && st.tx_packets > 50, `${kind} echoed by mediad: ${JSON.stringify(st)}`);
  }
  assert.ok(s.rtt_ms > 0 && s.rtt_ms < 1000, `mediad-side RTT ${s.rtt_ms}`);

  const closed = await control({ cmd: 'close', id });
  assert.equal(closed.ok, true);
  assert.equal((await control({ cmd: 'stats', id })).ok, false);
  const total = await control({ cmd: 'stats' });
  assert.equal(total.sessions_now, 0);
  assert.equal(total.completed, 1);
});

test('a malformed offer and unknown commands get errors, not a dead daemon', { skip, timeout: 20000 }, async () => {
  const bad = await control({ cmd: 'echo.offer', sdp: 'v=0\r\nm=audio 9 X 0\r\n', relay_only: true });
  assert.equal(bad.ok, false);
  assert.match(bad.error, /bad offer/);
  assert.equal((await control({ cmd: 'nope', req: 'x' })).req, 'x');
  assert.equal((await control({ cmd: 'close', id: 'echo-none' })).ok, false);
  assert.equal((await control({ cmd: 'stats' })).ok, true);
});

test('mediad stops cleanly on SIGTERM (no leaks under the sanitizers)', { skip, timeout: 20000 }, async () => {
  assert.equal(await rig.stopMediad(), 0, log.filter((l) => l.startsWith('[mediad]')).join(''));
  assert.ok(!existsSync(join(rig.dir, 'mediad.sock')), 'the control socket is removed');
});
