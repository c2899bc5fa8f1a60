// xss.e2e.test.mjs - hostile text everywhere a user can put text: a display
// name, a room name and topic, a message, a file name. The client shows all
// of it as text: no script runs, no dialog opens, no element is injected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Appliance, launch, login, haveChromium, PORT_BASE, PASSWORD } from './lib.mjs';

const T = 15000;
const IMG = '<img src=x onerror="window.__xss=(window.__xss||0)+1">';
const SVG = '<svg onload="window.__xss=(window.__xss||0)+1"></svg>';
const SCRIPT = '<script>window.__xss=(window.__xss||0)+1</script>';
let app, A, dialogs = 0;
const skip = !haveChromium() && 'chromium is not installed (apt-get install chromium)';

before(async () => {
  if (skip) return;
  app = await new Appliance('xss', { base: PORT_BASE }).start();
  A = await launch('alice');
  A.page.on('dialog', (d) => { dialogs++; d.dismiss().catch(() => {}); });
  await login(A.page, app.url, 'alice');
});

after(async () => { await A?.close(); await app?.stop(); });

test('hostile names, messages and file names render as text', { skip, timeout: 90000 }, async () => {
  const a = A.page;
  const ids = await a.evaluate(async ({ IMG, SVG, SCRIPT, PASSWORD }) => {
    const store = await import('/js/store.js');
    const api = await import('/js/api.js');
    const auth = { authorization: `Bearer ${api.token()}` };
    // a user whose display name is markup (alice is an administrator)
    const made = await fetch('/api/users', { method: 'POST', headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ name: 'mallory', password: PASSWORD, display_name: `Mal ${IMG}` }) }).then((r) => r.json());
    const { room } = await store.request('room.create', { name: `Room ${SVG}`, topic: `Topic ${SCRIPT}`,
      members: made.user ? [made.user.id] : [] });
    const up = await fetch(`/api/files?room=${room.id}&name=${encodeURIComponent(`f${IMG}.png`)}`, {
      method: 'POST', headers: { 'content-type': 'application/octet-stream', ...auth }, body: 'plain bytes' }).then((r) => r.json());
    await store.request('message.send', { room: room.id, body: `hello ${IMG} ${SCRIPT} **x**`,
      files: up.file ? [up.file.id] : [] });
    return { room: room.id, user: made.user?.id, file: !!up.file };
  }, { IMG, SVG, SCRIPT, PASSWORD });
  assert.ok(ids.user, 'the hostile display name was accepted as text');
  assert.ok(ids.file, 'the file with a hostile name was stored');
  await a.reload(); // the user directory is loaded at start: see the new user by name
  await a.waitForSelector('.sidebar', { timeout: T });

  await a.locator('.room-item', { hasText: 'Room <svg' }).click({ timeout: T });
  await a.locator('.msg-body', { hasText: 'hello <img' }).waitFor({ timeout: T });
  await a.locator('text=Topic <script>').first().waitFor({ timeout: T });
  await a.waitForTimeout(1000);
  const injected = await a.evaluate(() => ({
    xss: window.__xss || 0,
    imgs: [...document.querySelectorAll('img')].filter((i) => i.getAttribute('src') === 'x').length,
    svgs: [...document.querySelectorAll('svg[onload]')].length,
    scripts: [...document.querySelectorAll('script')].filter((s) => s.textContent.includes('__xss')).length,
  }));
  assert.deepEqual(injected, { xss: 0, imgs: 0, svgs: 0, scripts: 0 });
  assert.equal(dialogs, 0);
  // the member list and the attachment show the markup as text too
  if (!await a.locator('.members').isVisible().catch(() => false)) await a.click('[data-action=members]');
  await a.locator('text=Mal <img').first().waitFor({ timeout: T });
  const members = await a.evaluate(() => document.body.innerText);
  assert.match(members, /Mal <img src=x/);
  assert.match(members, /f<img src=x/);
  assert.deepEqual(a.errors, []);
});
