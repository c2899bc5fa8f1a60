// netns.e2e.test.mjs - a video call between two "LAN" hosts that cannot reach
// each other, only the appliance: Chromium A in namespace lanA, Chromium B in
// lanB, signald and turnd in srv (no forwarding). Media must go through turnd.
// Needs root (network namespaces); otherwise exits 77, which ctest reports as
// skipped.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { netnsMissing, netnsUp, netnsDown } from './netns.mjs';

const why = netnsMissing();
if (why) {
  console.log(`SKIP: netns call test: ${why}`);
  process.exit(77);
}

const { test, before, after } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { Appliance, launch, login, haveChromium, PORT_BASE, CHROMIUM } = await import('./lib.mjs');
const { verifyMedia } = await import('./calls.mjs');

if (!haveChromium()) { console.log('SKIP: chromium is not installed'); process.exit(77); }

// Our own names and subnet, so the shared recipes (10.231.x) can run alongside.
const NS = { a: 'lte2e-a', b: 'lte2e-b', s: 'lte2e-srv' };
const IP = { a: '10.232.1.2', sa: '10.232.1.1', b: '10.232.2.2', sb: '10.232.2.1' };
const T = 20000;
const down = () => netnsDown(Object.values(NS));

function up() {
  netnsUp(Object.values(NS), [[NS.a, 'lte2eA', IP.a, NS.s, 'lte2eAs', IP.sa], [NS.b, 'lte2eB', IP.b, NS.s, 'lte2eBs', IP.sb]]);
  execFileSync('ip', ['netns', 'exec', NS.s, 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);
}

// lanA and lanB must not reach each other (bounded probe: a ping that must fail).
function isolated() {
  try { execFileSync('ip', ['netns', 'exec', NS.a, 'ping', '-c1', '-W1', IP.b], { stdio: 'ignore' }); return false; } catch { return true; }
}

let app, A, B, dir;

before(async () => {
  up();
  dir = mkdtempSync(join(tmpdir(), 'lanturn-e2e-netns-'));
  const wrapper = join(dir, 'chromium-in-netns.sh');
  // playwright talks to Chromium over inherited pipes, which survive `ip netns exec`
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec "$E2E_NETNS" ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  app = await new Appliance('netns', { base: PORT_BASE, host: IP.sa, listenHost: '0.0.0.0', turnHosts: [IP.sa, IP.sb],
    wrap: ['ip', 'netns', 'exec', NS.s] }).start();
  [A, B] = await Promise.all([launch('alice-lanA', { exe: wrapper, env: { E2E_NETNS: NS.a } }),
    launch('bob-lanB', { exe: wrapper, env: { E2E_NETNS: NS.b } })]);
});

after(async () => {
  await A?.close(); await B?.close(); await app?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  down();
});

test('video call between two isolated LANs goes through turnd on the appliance', { timeout: 90000 }, async () => {
  assert.ok(isolated(), 'lanA must not reach lanB directly');
  const urlA = `https://${IP.sa}:${app.httpsPort}/`, urlB = `https://${IP.sb}:${app.httpsPort}/`;
  await Promise.all([login(A.page, urlA, 'alice'), login(B.page, urlB, 'bob')]);
  const a = A.page, b = B.page;
  await a.click('[data-action=new-direct]');
  await a.click('.person[data-user=bob]');
  await a.locator('.room-title', { hasText: 'Bob' }).waitFor({ timeout: T });
  await a.click('[data-action=call-video]');
  const card = b.locator('.ring-card', { hasText: 'Alice is calling' });
  await card.waitFor({ timeout: T });
  await card.locator('[data-action=accept-video]').click();
  const [ra, rb] = await Promise.all([verifyMedia(a, { timeoutMs: 40000 }), verifyMedia(b, { timeoutMs: 40000 })]);
  console.log('alice (lanA)', JSON.stringify(ra), '\nbob (lanB)', JSON.stringify(rb));
  assert.ok(ra[0].ok && rb[0].ok, 'relay/relay with video growing on both sides');
  await a.click('.controls [data-action=hangup]');
  await b.locator('.call-screen').waitFor({ state: 'hidden', timeout: T });
});
