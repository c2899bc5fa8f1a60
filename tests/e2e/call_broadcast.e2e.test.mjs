// call_broadcast.e2e.test.mjs - a screen presented to a room with the real
// client: one presenter shares a (fake) screen through "Present screen to
// room" to VIEWERS viewers (10 by default; BROADCAST_E2E_VIEWERS for fewer),
// each through one relay-only connection to mediad via turnd. Every viewer
// must decode growing video; the presenter's panel must count them; a viewer
// that stops watching and watches again gets video again; a viewer whose page
// opens after the presentation started still sees it and can watch; and the
// presenter stopping must end it with a message on every viewer's page.
// One Chromium with a browser context per person keeps 11 pages affordable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { Appliance, login, haveChromium, shot, until, CHROMIUM, CHROME_FLAGS, MEDIAD, PORT_BASE, sleep } from './lib.mjs';

const T = 20000;
const VIEWERS = Math.min(10, Math.max(2, Number(process.env.BROADCAST_E2E_VIEWERS || 10)));
const USERS = ['alice', ...Array.from({ length: VIEWERS }, (_, i) => `viewer${i + 1}`)];
const skip = (!haveChromium() && 'chromium is not installed') || (!existsSync(MEDIAD) && `${MEDIAD} is missing`);
let app, browser;
const people = []; // {name, page, ctx}
const t0 = Date.now();

// A page for one person in the shared browser; its screen capture is made small
// (the fake screen is 1080p otherwise) so 10 decoders fit a busy 2-core machine.
async function open(name) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 640, height: 420 }, locale: 'en-US' });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => { page.errors.push(e.message); console.error(`[${name} pageerror]`, e.message); });
  page.on('console', (m) => { if (m.type() === 'error' || process.env.E2E_VERBOSE) console.error(`[${name} console.${m.type()}]`, m.text()); });
  await ctx.addInitScript(() => {
    const md = navigator.mediaDevices;
    const get = md.getDisplayMedia.bind(md);
    md.getDisplayMedia = () => get({ video: { width: { max: 320 }, height: { max: 180 }, frameRate: { max: 10 } }, audio: false });
  });
  await login(page, app.url, name);
  const p = { name, page, ctx };
  p.userId = await page.evaluate(async () => (await import('/js/store.js')).state.me.id);
  people.push(p);
  return p;
}

before(async () => {
  if (skip) return;
  app = await new Appliance('call-broadcast', { base: PORT_BASE, users: USERS, media: true }).start();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 60000,
    args: [...CHROME_FLAGS, '--auto-select-desktop-capture-source=Entire screen'] });
});

after(async () => {
  await browser?.close().catch(() => {});
  await app?.stop();
});

// What a viewer's page receives (its connection has one pair: the presenter's) and the path to mediad.
function received(page) {
  return page.evaluate(async () => {
    const { broadcasts } = await import('/js/broadcast.js');
    const { quality } = await import('/js/stats.js');
    const c = broadcasts.current;
    if (!c || !c.sfu) return null;
    const q = await quality(c.sfu.pc);
    return { state: c.sfu.pc.connectionState, shown: !!c.stream, bytes: q.inVideoBytes, frames: q.framesDecoded, local: q.local, remote: q.remote };
  });
}

// Every viewer's video keeps coming, over relay, and its screen shows it.
async function everyViewerGetsVideo(viewers, label) {
  const first = [];
  try {
    for (const v of viewers) {
      first.push(await until(`${label}: ${v.name} receives`, () => received(v.page), (s) => s && s.state === 'connected' && s.shown && s.frames > 0));
    }
  } catch (e) {
    throw new Error(`${e.message}\n${app.log.slice(-40).join('')}`);
  }
  await sleep(2000);
  for (const [i, v] of viewers.entries()) {
    const s = await received(v.page);
    assert.ok(s.bytes > first[i].bytes && s.frames > first[i].frames, `${label}: ${v.name}'s video grows: ${JSON.stringify([first[i], s])}`);
    assert.ok(s.local === 'relay' && s.remote === 'relay', `${v.name}: relay/relay to mediad: ${s.local}/${s.remote}`);
    assert.equal(await v.page.locator('.bc-viewer .bc-wait').isVisible(), false, `${v.name}: the screen shows, not the wait`);
  }
  console.log(label, viewers.map((v, i) => `${v.name}:${first[i].frames}f`).join(' '));
}

const viewersShown = (page) => page.locator('.bc-panel .bc-viewers').getAttribute('data-viewers');
async function presenterCounts(page, n) {
  await page.waitForFunction((want) => document.querySelector('.bc-panel .bc-viewers')?.dataset.viewers === String(want), n, { timeout: T, polling: 200 });
}

async function watchFromBanner(v) {
  const card = v.page.locator('.bc-card');
  await card.waitFor({ timeout: T });
  assert.match(await card.innerText(), /Alice is presenting/);
  await card.locator('[data-action=watch]').click();
  await v.page.locator('.bc-viewer').waitFor({ timeout: T });
}

test(`a screen presented to a room reaches ${VIEWERS} viewers through turnd and mediad; one leaves and comes back, one opens late, the presenter stopping ends it for all`, { skip, timeout: 170000 }, async () => {
  const host = await open('alice');
  const early = [];
  for (const name of USERS.slice(1, -1)) early.push(await open(name));
  console.log(`pages up: ${people.length} in ${Date.now() - t0} ms`);
  const ids = await host.page.evaluate(async () => (await (await import('/js/store.js')).request('user.list')).users.map((u) => u.id));
  await host.page.evaluate(async (members) => {
    const store = await import('/js/store.js');
    await store.request('room.create', { name: 'Town hall', members });
  }, ids.filter((id) => id !== host.userId));
  await host.page.locator('.room-item', { hasText: 'Town hall' }).click({ timeout: T });

  // the presenter starts: its panel goes live with nobody watching yet
  const tPresent = Date.now();
  await host.page.click('.room-head [data-action=present]');
  await host.page.locator('.bc-panel.live').waitFor({ timeout: 30000 });
  assert.equal(await viewersShown(host.page), '0');
  assert.match(await host.page.locator('.bc-panel .bc-title').innerText(), /You are presenting to Town hall/);

  for (const v of early) await watchFromBanner(v);
  // the last viewer's page opens after the presentation started: it hears of it all the same;
  // it puts the banner away first, and watches from the reminder that stays
  const late = await open(USERS[USERS.length - 1]);
  await late.page.locator('.bc-card [data-action=dismiss]').click({ timeout: T });
  await late.page.locator('.bc-pill [data-action=watch]').click({ timeout: T });
  const viewers = [...early, late];
  await everyViewerGetsVideo(viewers, 'all watching');
  console.log(`${VIEWERS} viewers decode video ${Date.now() - tPresent} ms after the presenter started`);
  await presenterCounts(host.page, VIEWERS);
  await shot(host.page, 'broadcast-presenter');
  await shot(viewers[0].page, 'broadcast-viewer');

  // one viewer stops watching: the count drops, the others go on; it watches again from the pill
  const leaver = viewers[1];
  await leaver.page.click('.bc-viewer [data-action=leave-broadcast]');
  await presenterCounts(host.page, VIEWERS - 1);
  await leaver.page.locator('.bc-pill [data-action=watch]').click({ timeout: T });
  await presenterCounts(host.page, VIEWERS);
  await everyViewerGetsVideo([leaver, viewers[0]], 'after rewatching');

  // the presenter stops: every viewer's page says so and holds no connection any more
  await host.page.click('.bc-panel [data-action=stop-presenting]');
  await host.page.locator('.bc-panel').waitFor({ state: 'hidden', timeout: T });
  for (const v of viewers) {
    const ended = v.page.locator('.bc-viewer .bc-ended');
    await ended.waitFor({ timeout: T });
    assert.match(await ended.innerText(), /Alice stopped presenting/);
    assert.equal(await v.page.evaluate(async () => (await import('/js/broadcast.js')).broadcasts.current), null);
    assert.equal(await v.page.locator('.bc-card, .bc-pill').count(), 0, `${v.name}: no banner for an ended presentation`);
  }
  await shot(viewers[0].page, 'broadcast-ended');
  await viewers[0].page.click('[data-action=close-broadcast]');
  await viewers[0].page.locator('.bc-viewer').waitFor({ state: 'hidden', timeout: T });
  for (const p of people) assert.deepEqual(p.page.errors, [], `${p.name}: no page errors`);
  console.log(`whole test ${Date.now() - t0} ms`);
});
