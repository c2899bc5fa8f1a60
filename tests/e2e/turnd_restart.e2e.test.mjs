// turnd_restart.e2e.test.mjs - a relay-only video call survives turnd being
// killed (-9) and started again, as applianced does after a crash: the
// browsers notice the dead relay, the offering side restarts ICE, both get
// new relay allocations and video flows again, without hanging up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Appliance, launch, login, haveChromium, PORT_BASE, sleep } from './lib.mjs';
import { verifyMedia } from './calls.mjs';

const T = 15000;
let app, A, B;
const skip = !haveChromium() && 'chromium is not installed (apt-get install chromium)';

before(async () => {
  if (skip) return;
  app = await new Appliance('restart', { base: PORT_BASE }).start();
  [A, B] = await Promise.all([launch('alice'), launch('bob')]);
  await Promise.all([login(A.page, app.url, 'alice'), login(B.page, app.url, 'bob')]);
  await A.page.click('[data-action=new-direct]');
  await A.page.click('.person[data-user=bob]');
  await A.page.locator('.room-title', { hasText: 'Bob' }).waitFor({ timeout: T });
  await B.page.locator('.room-item', { hasText: 'Alice' }).waitFor({ timeout: T });
});

after(async () => { await A?.close(); await B?.close(); await app?.stop(); });

// The ICE username fragment of each peer connection: it changes with an ICE restart.
const ufrags = (page) => page.evaluate(async () => {
  const { calls } = await import('/js/call.js');
  return [...calls.current.peers.values()].map((p) => (p.pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/) || [])[1]);
});

test('a call recovers through an ICE restart after turnd is killed and restarted', { skip, timeout: 120000 }, async () => {
  const a = A.page, b = B.page;
  await a.click('[data-action=call-video]');
  const card = b.locator('.ring-card', { hasText: 'Alice is calling' });
  await card.waitFor({ timeout: T });
  await card.locator('[data-action=accept-video]').click();
  const [ra, rb] = await Promise.all([verifyMedia(a), verifyMedia(b)]);
  assert.ok(ra[0].ok && rb[0].ok, `the call works before the crash: ${JSON.stringify([ra, rb])}`);
  const before = await ufrags(a);

  await app.crashTurnd();
  const t0 = Date.now();
  let after;
  for (;;) { // bounded: 60 s
    const [xa, xb] = await Promise.all([verifyMedia(a, { timeoutMs: 5000 }).catch(() => null),
      verifyMedia(b, { timeoutMs: 5000 }).catch(() => null)]);
    const now = await ufrags(a);
    if (xa?.[0].ok && xb?.[0].ok && now[0] !== before[0]) { after = [xa, xb]; break; }
    assert.ok(Date.now() - t0 < 60000, `no recovery within 60 s: ${JSON.stringify([xa, xb])}`);
    await sleep(500);
  }
  console.log(`recovered in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(after)}`);
  await a.click('.controls [data-action=hangup]');
});
