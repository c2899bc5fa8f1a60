// call_sfu.e2e.test.mjs - a group call through mediad with the real client:
// a room of more members than a mesh of browsers holds, so the call runs in
// SFU mode; PEOPLE Chromiums (6 by default, 7 at most: what an SFU call holds;
// SFU_E2E_PEOPLE=3 for fewer) join with small fake cameras, each through one relay-only connection to
// mediad via turnd. Every participant must show a tile for each of the
// others whose own receiver (the pair signald gave it) gets growing video,
// and one who hangs up and joins again must get video again. Chromium's fake
// microphone beeps and its packets carry the RFC 6464 level mediad asked for:
// one participant becomes the speaker, whose tile the others mark.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Appliance, launch, login, haveChromium, MEDIAD, PORT_BASE, sleep } from './lib.mjs';

const T = 20000;
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina'];
const PEOPLE = Math.min(7, Math.max(3, Number(process.env.SFU_E2E_PEOPLE || 6)));
const skip = (!haveChromium() && 'chromium is not installed') || (!existsSync(MEDIAD) && `${MEDIAD} is missing`);
let app;
const people = [];

before(async () => {
  if (skip) return;
  app = await new Appliance('call-sfu', { base: PORT_BASE, users: USERS, media: true }).start();
  for (const name of USERS.slice(0, PEOPLE)) {
    const b = await launch(name, { viewport: { width: 800, height: 600 } });
    await login(b.page, app.url, name);
    // The client asks for 720p and the fake camera gives what is asked: 320x180 keeps PEOPLE
    // encoders and PEOPLE * (PEOPLE - 1) decoders within a busy 2-core machine.
    await b.page.evaluate(async () => {
      const { calls } = await import('/js/call.js');
      const get = calls.getMedia.bind(calls);
      calls.getMedia = async (video) => {
        const s = await get(false);
        if (video) s.addTrack((await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 180, frameRate: 15 } })).getVideoTracks()[0]);
        return s;
      };
    });
    people.push({ name, ...b });
  }
});

after(async () => {
  for (const p of people) await p.close();
  await app?.stop();
});

// Per tile: who, its pair, the connection's state, and its own video receiver's figures.
function tiles(page) {
  return page.evaluate(async () => {
    const { calls } = await import('/js/call.js');
    const c = calls.current;
    if (!c || !c.sfu) return null;
    const out = [];
    for (const t of c.peers.values()) {
      let bytes = 0, frames = 0;
      (await c.sfu.pairs[t.pair].video.receiver.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp') { bytes += s.bytesReceived || 0; frames += s.framesDecoded || 0; }
      });
      out.push({ user: t.user, conn: t.conn, pair: t.pair, state: c.sfu.pc.connectionState, bytes, frames });
    }
    const { quality } = await import('/js/stats.js');
    const q = await quality(c.sfu.pc);
    return { tiles: out, local: q.local, remote: q.remote };
  });
}

// Every page shows want - 1 tiles, each with video that keeps coming.
async function everyoneSeesEveryone(pages, label) {
  const first = [];
  for (const p of pages) {
    const t0 = Date.now();
    let s;
    for (;;) {
      s = await tiles(p.page);
      if (s && s.tiles.length === pages.length - 1 && s.tiles.every((x) => x.state === 'connected' && x.bytes > 0)) break;
      if (Date.now() - t0 > 45000) throw new Error(`${label}: ${p.name} sees ${JSON.stringify(s)}\n${app.log.slice(-40).join('')}`);
      await sleep(500);
    }
    first.push(s);
  }
  await sleep(3000);
  for (const [i, p] of pages.entries()) {
    const s = await tiles(p.page);
    console.log(label, p.name, s.local, JSON.stringify(s.tiles.map((x) => [x.user, x.pair, x.bytes, x.frames])));
    assert.ok(s.local === 'relay' && s.remote === 'relay', `${p.name}: relay/relay to mediad: ${s.local}/${s.remote}`);
    const others = new Set(pages.filter((o) => o !== p).map((o) => o.userId));
    assert.deepEqual(new Set(s.tiles.map((x) => x.user)), others, `${p.name}: a tile per other participant`);
    for (const t of s.tiles) {
      const before = first[i].tiles.find((x) => x.conn === t.conn);
      assert.ok(before && t.bytes > before.bytes && t.frames > before.frames,
        `${label}: ${p.name} gets video from user ${t.user} on pair ${t.pair}: ${JSON.stringify([before, t])}`);
    }
    const shown = await p.page.locator('.call-screen .tile').count();
    assert.equal(shown, pages.length - 1, `${p.name}: the call screen shows a tile per other participant`);
  }
}

// call.speaker arrived from mediad's audio levels: the pages other than the
// speaker's mark that device's tile, and only that one, as the speaker.
async function speakerShown(pages) {
  const marked = (p) => p.page.evaluate(() => [...document.querySelectorAll('.call-screen .tiles.has-speaker .tile.speaker')].length);
  const t0 = Date.now();
  let seen;
  while (!(seen = await Promise.all(pages.map(marked))).some((n) => n > 0)) {
    if (Date.now() - t0 > 20000) throw new Error(`no page shows a speaker's tile\n${app.log.slice(-40).join('')}`);
    await sleep(250);
  }
  const conns = await Promise.all(pages.map((p) => p.page.evaluate(async () => {
    const { calls } = await import('/js/call.js');
    const { speakerOf } = await import('/js/speaker.js');
    return [calls.current.id && speakerOf(calls.current.id), (await import('/js/store.js')).conn?.conn];
  })));
  const speaker = conns.find(([s]) => s !== null)[0];
  assert.ok(conns.some(([, own]) => own === speaker), `the speaker ${speaker} is one of the participants`);
  for (const [i, p] of pages.entries()) {
    if (conns[i][1] === speaker) continue; // no tile of its own
    await p.page.waitForFunction(() => document.querySelectorAll('.call-screen .tile.speaker').length === 1, null, { timeout: T, polling: 250 });
  }
  console.log('speaker', speaker, 'marked on', seen);
}

test(`${PEOPLE} people in an SFU call each receive video from every other through turnd and mediad; one leaves and comes back`, { skip, timeout: 170000 }, async () => {
  const [host, ...guests] = people;
  for (const p of people) p.userId = await p.page.evaluate(async () => (await import('/js/store.js')).state.me.id);
  const ids = await host.page.evaluate(async () => (await (await import('/js/store.js')).request('user.list')).users.map((u) => u.id));
  await host.page.evaluate(async (members) => {
    const store = await import('/js/store.js');
    await store.request('room.create', { name: 'All hands', members });
  }, ids.filter((id) => id !== people[0].userId));
  await host.page.locator('.room-item', { hasText: 'All hands' }).click({ timeout: T });
  await host.page.click('[data-action=call-video]');
  for (const g of guests) {
    const card = g.page.locator('.ring-card');
    await card.waitFor({ timeout: T });
    await card.locator('[data-action=accept-video]').click();
  }
  const mode = await host.page.evaluate(async () => (await import('/js/call.js')).calls.current.sfu ? 'sfu' : 'mesh');
  assert.equal(mode, 'sfu', `${USERS.length} members: more than a mesh holds`);
  await everyoneSeesEveryone(people, 'all in');
  await speakerShown(people);

  // the last guest hangs up: the others drop its tile; it joins again and gets video again
  const leaver = guests[guests.length - 1];
  const callId = await leaver.page.evaluate(async () => (await import('/js/call.js')).calls.current.id);
  await leaver.page.click('.controls [data-action=hangup]');
  const stay = people.filter((p) => p !== leaver);
  for (const p of stay) {
    await p.page.waitForFunction(async (n) => (await import('/js/call.js')).calls.current.peers.size === n, stay.length - 1, { timeout: T, polling: 250 });
  }
  await leaver.page.evaluate(async (id) => (await import('/js/call.js')).calls.rejoin(id, true), callId);
  await everyoneSeesEveryone(people, 'after rejoin');
  for (const p of people) assert.deepEqual(p.page.errors, [], `${p.name}: no page errors`);
});
