// call.e2e.test.mjs - a 1:1 video call between two Chromiums through the real
// client, signalled by signald and relayed by turnd on 127.0.0.1 (relay-only):
// ringing, accept, relay/relay candidate pair and growing inbound video on both
// sides, mute, screen sharing alongside and instead of the camera, hang up,
// and a declined call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Appliance, launch, login, shot, haveChromium, PORT_BASE } from './lib.mjs';
import { verifyMedia, stageSize } from './calls.mjs';

const T = 15000;
let app, A, B, C;
const skip = !haveChromium() && 'chromium is not installed (apt-get install chromium)';

before(async () => {
  if (skip) return;
  app = await new Appliance('call', { base: PORT_BASE }).start();
  [A, B] = await Promise.all([launch('alice'), launch('bob')]);
  await Promise.all([login(A.page, app.url, 'alice'), login(B.page, app.url, 'bob')]);
  // a direct room between them
  await A.page.click('[data-action=new-direct]');
  await A.page.click('.person[data-user=bob]');
  await A.page.locator('.room-title', { hasText: 'Bob' }).waitFor({ timeout: T });
  await B.page.locator('.room-item', { hasText: 'Alice' }).waitFor({ timeout: T });
});

after(async () => { await A?.close(); await B?.close(); await C?.close(); await app?.stop(); });

test('video call rings, connects relay-only through turnd and carries video both ways', { skip, timeout: 60000 }, async () => {
  const a = A.page, b = B.page;
  await a.click('[data-action=call-video]');
  await a.locator('.call-screen .call-status', { hasText: /Calling|Ringing/ }).waitFor({ timeout: T });
  const card = b.locator('.ring-card', { hasText: 'Alice is calling' });
  await card.waitFor({ timeout: T });
  await a.locator('.call-status', { hasText: 'Ringing' }).waitFor({ timeout: T });
  await b.waitForTimeout(400);
  await shot(b, 'call-incoming');
  await card.locator('[data-action=accept-video]').click();

  const [ra, rb] = await Promise.all([verifyMedia(a), verifyMedia(b)]);
  console.log('alice', JSON.stringify(ra), '\nbob', JSON.stringify(rb));
  assert.ok(ra[0].ok, `alice: relay/relay and growing video: ${JSON.stringify(ra)}`);
  assert.ok(rb[0].ok, `bob: relay/relay and growing video: ${JSON.stringify(rb)}`);
  // the UI shows the timer and a relay quality indicator
  await a.locator('.call-status.live').waitFor({ timeout: T });
  await a.locator('.quality[data-path=relay]', { hasText: 'Relay' }).waitFor({ timeout: T });
  await b.locator('.tile[data-user=alice]:not(.no-video) video').waitFor({ timeout: T });
  await b.waitForFunction(() => document.querySelector('.tile[data-user=alice] video').videoWidth > 0, null, { timeout: T });
  await b.waitForTimeout(500);
  await shot(b, 'call');
});

test('mute shows on the other side', { skip, timeout: 30000 }, async () => {
  const a = A.page, b = B.page;
  await a.click('.controls [data-action=mute]');
  await b.locator('.tile[data-user=alice] .tile-mic svg').waitFor({ timeout: T });
  await a.click('.controls [data-action=mute]');
  await b.locator('.tile[data-user=alice] .tile-mic svg').waitFor({ state: 'detached', timeout: T });
});

test('screen sharing next to the camera, then instead of it', { skip, timeout: 60000 }, async () => {
  const a = A.page, b = B.page;
  // alongside the camera: a second video track, renegotiated
  await a.click('.controls [data-action=share]');
  await b.locator('.call-screen.presenting .stage-label', { hasText: 'Alice is presenting' }).waitFor({ timeout: T });
  await b.waitForFunction(() => { const v = document.querySelector('.stage video'); return v && v.videoWidth > 0; }, null, { timeout: T });
  assert.ok((await stageSize(b)).w > 0);
  // the camera still arrives
  await b.waitForFunction(() => document.querySelector('.tile[data-user=alice] video').videoWidth > 0, null, { timeout: T });
  await b.waitForTimeout(500);
  await shot(b, 'call-screenshare');
  await a.click('.controls [data-action=share]');
  await b.locator('.call-screen.presenting').waitFor({ state: 'detached', timeout: T });

  // instead of the camera: same track slot, no renegotiation
  await a.click('.controls [data-action=devices]');
  await a.check('#share-mode');
  await a.click('.controls [data-action=devices]');
  await a.click('.controls [data-action=share]');
  await b.locator('.call-screen.presenting .stage-label', { hasText: 'Alice is presenting' }).waitFor({ timeout: T });
  await b.waitForFunction(() => { const v = document.querySelector('.stage video'); return v && v.videoWidth > 0; }, null, { timeout: T });
  await a.click('.controls [data-action=share]');
  await b.locator('.call-screen.presenting').waitFor({ state: 'detached', timeout: T });
  await b.locator('.tile[data-user=alice]:not(.no-video)').waitFor({ timeout: T });
  const [ra] = await Promise.all([verifyMedia(b, { windowMs: 1500 })]);
  assert.ok(ra[0].ok, `video flows again after sharing: ${JSON.stringify(ra)}`);
});

test('hang up ends the call on both sides', { skip, timeout: 30000 }, async () => {
  const a = A.page, b = B.page;
  await a.click('.controls [data-action=hangup]');
  await a.locator('.call-screen').waitFor({ state: 'hidden', timeout: T });
  await b.locator('.call-screen').waitFor({ state: 'hidden', timeout: T });
  await b.locator('.toast', { hasText: 'Call ended' }).waitFor({ timeout: T });
});

test('a declined voice call ends for the caller', { skip, timeout: 30000 }, async () => {
  const a = A.page, b = B.page;
  await a.click('[data-action=call-audio]');
  const card = b.locator('.ring-card', { hasText: 'Alice is calling' });
  await card.waitFor({ timeout: T });
  await card.locator('[data-action=decline]').click();
  await a.locator('.call-screen').waitFor({ state: 'hidden', timeout: T });
  await b.locator('.ring-card').waitFor({ state: 'detached', timeout: T });
  assert.deepEqual([...A.page.errors, ...B.page.errors], []);
});

test('group call: a mesh of three, everyone receives everyone relay-only', { skip, timeout: 60000 }, async () => {
  const a = A.page, b = B.page;
  C = await launch('carol');
  const c = C.page;
  await login(c, app.url, 'carol');
  await a.click('[data-action=new-room]');
  await a.fill('#room-name', 'Standup');
  await a.click('.person[data-user=bob]');
  await a.click('.person[data-user=carol]');
  await a.click('[data-action=create-room]');
  await a.locator('.room-title', { hasText: 'Standup' }).waitFor({ timeout: T });
  await a.click('[data-action=call-video]');
  for (const p of [b, c]) {
    const card = p.locator('.ring-card', { hasText: 'Alice is calling' });
    await card.waitFor({ timeout: T });
    await card.locator('[data-action=accept-video]').click();
  }
  const results = await Promise.all([a, b, c].map((p) => verifyMedia(p, { peers: 2, windowMs: 2000 })));
  for (const [i, r] of results.entries()) assert.ok(r.every((x) => x.ok), `${['alice', 'bob', 'carol'][i]}: ${JSON.stringify(r)}`);
  await c.locator('.tiles[data-count="2"] .tile[data-user=alice]').waitFor({ timeout: T });
  await shot(c, 'call-group');
  // carol leaves: the others keep talking; then alice hangs up and it ends
  await c.click('.controls [data-action=hangup]');
  await a.locator('.tiles[data-count="1"]').waitFor({ timeout: T });
  await a.click('.controls [data-action=hangup]');
  await b.locator('.call-screen').waitFor({ state: 'hidden', timeout: T });
});
