// echo.e2e.test.mjs - "test my call" in headless Chromium against mediad:
// the page sends its fake camera and microphone relay-only through turnd to
// mediad, which sends them back (DTLS-SRTP over ICE, relay <-> relay on
// 127.0.0.1). Checks that inbound audio and video grow, frames decode, the
// selected pair is relay/relay and both sides measure a round-trip time;
// then closes the session through the control socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { createConnection } from 'node:net';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const TURND = process.env.TURND || join(ROOT, 'build/turnd/turnd');
// mediad sits next to turnd's build directory unless told otherwise
const MEDIAD = process.env.MEDIAD || join(dirname(TURND), '..', 'signal/media/mediad');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BASE = Number(process.env.LANTURN_PORT_BASE || 28800);
const SECRET = 'echo-e2e-secret-0123456789';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const missing = [CHROMIUM, TURND, MEDIAD].find((f) => !existsSync(f));
const skip = missing && `${missing} is missing`;

let dir, procs = [], log = [], http, browser, page;
const turnPort = BASE + 2, httpPort = BASE + 3;

function start(name, argv) {
  const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.on('data', (d) => log.push(`[${name}] ${d}`));
  p.stderr.on('data', (d) => log.push(`[${name}] ${d}`));
  p.name = name;
  procs.push(p);
  return p;
}

// One request over a fresh connection to mediad's control socket.
function control(req) {
  return new Promise((resolve, reject) => {
    const c = createConnection(join(dir, 'mediad.sock'));
    let buf = '';
    c.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) { c.end(); resolve(JSON.parse(buf.slice(0, nl))); }
    });
    c.on('error', reject);
    c.write(`${JSON.stringify(req)}\n`);
  });
}

function turnCredentials() {
  const username = `${Math.floor(Date.now() / 1000) + 600}:echo-e2e`;
  return { username, credential: createHmac('sha1', SECRET).update(username).digest('base64') };
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'lanturn-e2e-echo-'));
  writeFileSync(join(dir, 'secret'), `${SECRET}\n`, { mode: 0o600 });
  start('turnd', [TURND, '--listen', `127.0.0.1:${turnPort}`, '--no-tcp', '--relay-ip', '127.0.0.1',
    '--relay-ports', `${BASE + 100}-${BASE + 199}`, '--secret-file', join(dir, 'secret'), '--log-level', 'info']);
  start('mediad', [MEDIAD, '--control-socket', join(dir, 'mediad.sock'), '--ice-address', '127.0.0.1',
    '--turn-url', `turn:127.0.0.1:${turnPort}?transport=udp`, '--turn-secret-file', join(dir, 'secret'),
    '--log-level', 'info']);
  for (let i = 0; ; i++) {
    for (const p of procs) if (p.exitCode !== null) throw new Error(`${p.name} exited ${p.exitCode}:\n${log.join('')}`);
    try { if ((await control({ cmd: 'stats' })).ok) break; } catch { /* not yet */ }
    if (i > 100) throw new Error(`mediad did not come up:\n${log.join('')}`);
    await sleep(50);
  }
  // The page and the bridge from it to the control socket.
  const html = readFileSync(join(HERE, 'pages', 'echo.html'));
  http = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/offer') {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', async () => {
        const { sdp } = JSON.parse(body);
        const answer = await control({ cmd: 'echo.offer', sdp, relay_only: true, req: 1 }).catch((e) => ({ ok: false, error: String(e) }));
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(answer));
      });
      return;
    }
    res.setHeader('content-type', 'text/html');
    res.end(html);
  }).listen(httpPort, '127.0.0.1');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 60000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'] });
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || process.env.E2E_VERBOSE) console.error('[page]', m.text()); });
  await page.goto(`http://127.0.0.1:${httpPort}/`);
});

after(async () => {
  await browser?.close().catch(() => {});
  http?.close();
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  for (const p of procs) {
    if (p.exitCode === null && !await Promise.race([new Promise((r) => p.once('exit', () => r(true))), sleep(5000)])) p.kill('SIGKILL');
  }
  if (process.env.E2E_VERBOSE) console.error(log.join(''));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the browser gets its own audio and video back from mediad, relay-only through turnd', { skip, timeout: 60000 }, async () => {
  const { id, answer } = await page.evaluate((t) => window.startEcho(t), { turnUrl: `turn:127.0.0.1:${turnPort}?transport=udp`, ...turnCredentials() });
  assert.match(answer, /a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  assert.match(answer, /typ relay/, 'mediad offers only relay candidates');
  assert.doesNotMatch(answer, /typ host/);

  let first;
  const t0 = Date.now();
  for (;;) {
    first = await page.evaluate(() => window.echoStats());
    if (first.state === 'connected' && first.videoBytes > 0 && first.audioBytes > 0 && first.framesDecoded > 0) break;
    if (Date.now() - t0 > 20000) throw new Error(`no echo: ${JSON.stringify(first)}\n${log.join('')}`);
    await sleep(250);
  }
  const connectMs = Date.now() - t0;
  await sleep(4000);
  const second = await page.evaluate(() => window.echoStats());
  const server = await control({ cmd: 'stats', id });
  console.log('connected after', connectMs, 'ms\nbrowser', JSON.stringify(second), '\nmediad', JSON.stringify(server));

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
  const m = procs.find((p) => p.name === 'mediad');
  const code = new Promise((r) => m.once('exit', (c) => r(c)));
  m.kill('SIGTERM');
  assert.equal(await code, 0, log.filter((l) => l.startsWith('[mediad]')).join(''));
  assert.ok(!existsSync(join(dir, 'mediad.sock')), 'the control socket is removed');
});
