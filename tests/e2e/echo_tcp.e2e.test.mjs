// echo_tcp.e2e.test.mjs - "test my call" over ICE-TCP (RFC 6544): Chromium in
// namespace lttcp-b, mediad in lttcp-s, joined by a veth pair on which UDP is
// impossible both ways (an `ip rule` blackholes it; TCP passes). No TURN: the
// browser offers host candidates only, so the call works only if mediad
// offers a passive TCP host candidate and accepts the browser's active one.
// Then, with mediad's ICE-TCP switched off, the same call must not connect.
// Needs root (network namespaces); otherwise exits 77 (skipped).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ip, netnsMissing, netnsUp, netnsDown } from './netns.mjs';

const why = netnsMissing();
if (why) {
  console.log(`SKIP: ICE-TCP echo test: ${why}`);
  process.exit(77);
}

const { test, before, after } = await import('node:test');
const assert = (await import('node:assert/strict')).default;
const { chromium } = await import('playwright-core');
const { MEDIAD, CHROMIUM, FLAGS, sleep, controlAt, measureEcho } = await import('./media_rig.mjs');
const { existsSync } = await import('node:fs');
const missing = [CHROMIUM, MEDIAD].find((f) => !existsSync(f)); // no turnd here
if (missing) { console.log(`SKIP: ${missing} is missing`); process.exit(77); }

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = Number(process.env.LANTURN_PORT_BASE || 32100);
const NS = { b: 'lttcp-b', s: 'lttcp-s' };
const IP = { b: '10.233.1.2', s: '10.233.1.1' };
const log = [];
let dir, sock, mediad, browser, page;

const down = () => netnsDown(Object.values(NS));

function up() {
  netnsUp(Object.values(NS), [[NS.b, 'lttcpB', IP.b, NS.s, 'lttcpS', IP.s]]);
  // No UDP between the two, either way: the kernel refuses to route it.
  ip('-n', NS.b, 'rule', 'add', 'pref', '100', 'ipproto', 'udp', 'to', IP.s, 'blackhole');
  ip('-n', NS.s, 'rule', 'add', 'pref', '100', 'ipproto', 'udp', 'to', IP.b, 'blackhole');
}

// A datagram from the browser's namespace to mediad's address must fail to send.
function udpBlocked() {
  const js = `require('dgram').createSocket('udp4').send('x', ${BASE + 10}, '${IP.s}', (e) => process.exit(e ? 0 : 1))`;
  try { execFileSync('ip', ['netns', 'exec', NS.b, process.execPath, '-e', js], { stdio: 'ignore', timeout: 5000 }); return true; } catch { return false; }
}

const control = (req) => controlAt(sock, req);

async function startMediad(extra) {
  if (mediad && mediad.exitCode === null) {
    const gone = new Promise((r) => mediad.once('exit', r));
    mediad.kill('SIGTERM');
    await gone;
  }
  mediad = spawn('ip', ['netns', 'exec', NS.s, MEDIAD, '--control-socket', sock, '--ice-address', IP.s,
    '--ports', `${BASE + 10}-${BASE + 59}`, '--log-level', 'info', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  mediad.stdout.on('data', (d) => log.push(`[mediad] ${d}`));
  mediad.stderr.on('data', (d) => log.push(`[mediad] ${d}`));
  for (let i = 0; ; i++) {
    if (mediad.exitCode !== null) throw new Error(`mediad exited ${mediad.exitCode}:\n${log.join('')}`);
    try { if ((await control({ cmd: 'stats' })).ok) return; } catch { /* not yet */ }
    if (i > 100) throw new Error(`mediad did not come up:\n${log.join('')}`);
    await sleep(50);
  }
}

// The page is served by playwright itself (the browser's namespace reaches
// nothing but mediad); localhost keeps it a secure context for getUserMedia.
async function newPage() {
  const p = await browser.newPage();
  p.on('console', (m) => { if (m.type() === 'error' || process.env.E2E_VERBOSE) console.error('[page]', m.text()); });
  await p.route('**/*', async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    if (url.pathname === '/offer') {
      const answer = await control({ cmd: 'echo.offer', sdp: JSON.parse(req.postData()).sdp, relay_only: false })
        .catch((e) => ({ ok: false, error: String(e) }));
      return route.fulfill({ contentType: 'application/json', body: JSON.stringify(answer) });
    }
    const js = url.pathname === '/offer.js';
    return route.fulfill({ contentType: js ? 'text/javascript' : 'text/html',
      body: readFileSync(join(HERE, 'pages', js ? 'offer.js' : 'echo.html')) });
  });
  await p.goto(`http://localhost:${BASE + 3}/`);
  return p;
}

before(async () => {
  up();
  dir = mkdtempSync(join(tmpdir(), 'lanturn-e2e-echo-tcp-'));
  sock = join(dir, 'mediad.sock');
  const wrapper = join(dir, 'chromium-in-netns.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${NS.b} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  await startMediad([]);
  browser = await chromium.launch({ executablePath: wrapper, headless: true, timeout: 60000, args: FLAGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  if (mediad?.exitCode === null) {
    const gone = new Promise((r) => mediad.once('exit', r));
    mediad.kill('SIGTERM');
    await Promise.race([gone, sleep(5000)]);
  }
  if (process.env.E2E_VERBOSE) console.error(log.join(''));
  if (dir) rmSync(dir, { recursive: true, force: true });
  down();
});

test('with UDP blocked, the echo runs over ICE-TCP: the browser\'s active TCP host candidate to mediad\'s passive one', { timeout: 60000 }, async () => {
  assert.ok(udpBlocked(), 'UDP from the browser to mediad must be impossible');
  page = await newPage();
  const { id, answer } = await page.evaluate(() => window.startEcho({ direct: true }));
  console.log(answer.split('\r\n').filter((l) => l.startsWith('a=candidate')).join('\n'));
  assert.match(answer, new RegExp(`a=candidate:\\S+ 1 TCP \\d+ ${IP.s.replace(/\./g, '\\.')} \\d+ typ host tcptype passive`, 'i'),
    'mediad offers a passive TCP host candidate');
  assert.match(answer, / UDP \d+ \S+ \d+ typ host/i, 'and its UDP host candidate as well');

  const { first, second, server } = await measureEcho(page, control, id, 25000, log);

  assert.equal(second.state, 'connected');
  assert.equal(second.protocol, 'tcp', 'the selected pair is TCP');
  assert.equal(second.tcpType, 'active', 'the browser connects out to mediad');
  // Chromium reports its end of an accepted TCP connection (a port of its own,
  // not the candidate's 9) as peer-reflexive; mediad's end is its host candidate.
  assert.match(second.local, /^(host|prflx)$/);
  assert.equal(second.remote, 'host');
  assert.ok(second.videoBytes > first.videoBytes, `inbound video grows: ${first.videoBytes} -> ${second.videoBytes}`);
  assert.ok(second.audioBytes > first.audioBytes, `inbound audio grows: ${first.audioBytes} -> ${second.audioBytes}`);
  assert.ok(second.framesDecoded > first.framesDecoded + 20, `frames decode: ${first.framesDecoded} -> ${second.framesDecoded}`);

  const s = server.session;
  assert.equal(s.state, 'connected');
  assert.equal(s.pair.transport, 'tcp');
  assert.equal(s.pair.local, 'host');
  assert.equal(s.srtp_errors, 0);
  const video = s.streams.find((x) => x.kind === 'video');
  assert.ok(video && video.rx_packets > 50 && video.tx_packets > 50, `video echoed by mediad: ${JSON.stringify(video)}`);
  assert.equal((await control({ cmd: 'close', id })).ok, true);
  await page.close();
});

test('with ICE-TCP switched off (--no-ice-tcp) the same call cannot connect', { timeout: 60000 }, async () => {
  await startMediad(['--no-ice-tcp']);
  page = await newPage();
  const { id, answer } = await page.evaluate(() => window.startEcho({ direct: true }));
  assert.doesNotMatch(answer, /a=candidate:\S+ 1 TCP /i, 'no TCP candidates without ice_tcp');
  // Bounded wait: the browser's ICE checks over UDP fail at once; give it 8 s.
  await sleep(8000);
  const st = await page.evaluate(() => window.echoStats());
  const server = await control({ cmd: 'stats', id });
  console.log('without ICE-TCP: browser', JSON.stringify(st), '\nmediad', JSON.stringify(server));
  assert.notEqual(st.state, 'connected');
  assert.equal(st.videoBytes, 0);
  assert.ok(!server.ok || server.session.state !== 'connected', JSON.stringify(server));
  await page.close();
});
