// echo_client.e2e.test.mjs - "Test my call" in the real client: Settings →
// Test my call → Start sends the fake camera and microphone through signald
// and turnd (relay-only) to mediad and shows them coming back, with the
// path, round trip, loss and jitter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Appliance, launch, login, shot, haveChromium, PORT_BASE, MEDIAD } from './lib.mjs';

const T = 20000;
let app, A;
const skip = (!haveChromium() && 'chromium is not installed (apt-get install chromium)') ||
  (!existsSync(MEDIAD) && 'mediad was not built (libsrtp2-dev missing?)');

before(async () => {
  if (skip) return;
  app = await new Appliance('echo-client', { base: PORT_BASE, media: true }).start();
  A = await launch('alice');
  await login(A.page, app.url, 'alice');
});

after(async () => { await A?.close(); await app?.stop(); });

test('Test my call brings the camera back through the appliance, relayed, with stats', { skip, timeout: 90000 }, async () => {
  const a = A.page;
  await a.click('[data-action=settings]');
  await a.click('[data-action=echo-test]');
  await a.click('[data-action=echo-start]');
  const stats = a.locator('.echo-stats[data-state=ok]');
  await stats.waitFor({ timeout: T });
  const first = Number(await stats.getAttribute('data-video-bytes'));
  await a.waitForTimeout(2500);
  const second = Number(await a.locator('.echo-stats').getAttribute('data-video-bytes'));
  assert.ok(second > first, `video keeps coming back: ${first} -> ${second}`);
  assert.equal(await a.locator('.echo-stats').getAttribute('data-path'), 'relay');
  await a.waitForFunction(() => document.querySelector('.echo-video').videoWidth > 0, null, { timeout: T });
  const text = await a.locator('.echo-stats').innerText();
  assert.match(text, /Relayed by the appliance/);
  assert.match(text, /\d+ ms/);
  await shot(a, 'echo');
  console.log(text.replace(/\n/g, ' | '));
  await a.keyboard.press('Escape'); // closing the dialog ends the session
  await a.locator('.echo-dialog').waitFor({ state: 'detached', timeout: T });
});
