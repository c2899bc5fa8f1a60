// media_rig.mjs - what mediad's browser tests share: a real turnd and mediad
// on 127.0.0.1 with a TURN secret, an HTTP server that serves a test page
// from pages/ (and pages/offer.js) and bridges its POST /offer to mediad's
// control socket, and headless Chromium with fake camera and microphone.
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
export const TURND = process.env.TURND || join(ROOT, 'build/turnd/turnd');
// mediad sits next to turnd's build directory unless told otherwise
export const MEDIAD = process.env.MEDIAD || join(dirname(TURND), '..', 'signal/media/mediad');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'];

// Why the tests cannot run here, or undefined.
export const missing = [CHROMIUM, TURND, MEDIAD].find((f) => !existsSync(f));

// One request over a fresh connection to mediad's control socket at sock (one JSON line each way).
export function controlAt(sock, req) {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
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

// An echo page (pages/echo.html) once its session `id` is up: waits until it is
// connected and gets audio and decoded video back, then 4 s more. The browser's
// figures at both times, mediad's stats at the second, and the time to connect.
export async function measureEcho(page, control, id, timeoutMs, log) {
  let first;
  const t0 = Date.now();
  for (;;) {
    first = await page.evaluate(() => window.echoStats());
    if (first.state === 'connected' && first.videoBytes > 0 && first.audioBytes > 0 && first.framesDecoded > 0) break;
    if (Date.now() - t0 > timeoutMs) throw new Error(`no echo: ${JSON.stringify(first)}\n${log.join('')}`);
    await sleep(250);
  }
  const connectMs = Date.now() - t0;
  await sleep(4000);
  const second = await page.evaluate(() => window.echoStats());
  const server = await control({ cmd: 'stats', id });
  console.log('connected after', connectMs, 'ms\nbrowser', JSON.stringify(second), '\nmediad', JSON.stringify(server));
  return { first, second, server, connectMs };
}

export class MediaRig {
  // page: the file in pages/; offer(sdp): the control request a posted offer becomes.
  constructor(name, { base, page, offer }) {
    this.name = name;
    this.base = base;
    this.page = page;
    this.offer = offer;
    this.turnPort = base + 2;
    this.httpPort = base + 3;
    this.secret = `${name}-e2e-secret-0123456789`;
    this.procs = [];
    this.log = [];
  }

  spawn(name, argv) {
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => this.log.push(`[${name}] ${d}`));
    p.stderr.on('data', (d) => this.log.push(`[${name}] ${d}`));
    p.name = name;
    this.procs.push(p);
    return p;
  }

  control(req) {
    return controlAt(this.sock, req);
  }

  // What a page needs for a relay-only connection: turnd's URL and shared-secret credentials.
  turn(user) {
    const username = `${Math.floor(Date.now() / 1000) + 600}:${user}`;
    return { turnUrl: `turn:127.0.0.1:${this.turnPort}?transport=udp`, username,
      credential: createHmac('sha1', this.secret).update(username).digest('base64') };
  }

  async start() {
    this.dir = mkdtempSync(join(tmpdir(), `lanturn-e2e-${this.name}-`));
    this.sock = join(this.dir, 'mediad.sock');
    const secretFile = join(this.dir, 'secret');
    writeFileSync(secretFile, `${this.secret}\n`, { mode: 0o600 });
    this.spawn('turnd', [TURND, '--listen', `127.0.0.1:${this.turnPort}`, '--no-tcp', '--relay-ip', '127.0.0.1',
      '--relay-ports', `${this.base + 100}-${this.base + 199}`, '--secret-file', secretFile, '--log-level', 'info']);
    this.spawn('mediad', [MEDIAD, '--control-socket', this.sock, '--ice-address', '127.0.0.1',
      '--turn-url', `turn:127.0.0.1:${this.turnPort}?transport=udp`, '--turn-secret-file', secretFile,
      '--log-level', 'info']);
    for (let i = 0; ; i++) {
      for (const p of this.procs) if (p.exitCode !== null) throw new Error(`${p.name} exited ${p.exitCode}:\n${this.log.join('')}`);
      try { if ((await this.control({ cmd: 'stats' })).ok) break; } catch { /* not yet */ }
      if (i > 100) throw new Error(`mediad did not come up:\n${this.log.join('')}`);
      await sleep(50);
    }
    const html = readFileSync(join(HERE, 'pages', this.page));
    const offerJs = readFileSync(join(HERE, 'pages', 'offer.js'));
    this.http = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/offer') {
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', async () => {
          const answer = await this.control(this.offer(JSON.parse(body).sdp)).catch((e) => ({ ok: false, error: String(e) }));
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(answer));
        });
        return;
      }
      const js = req.url === '/offer.js';
      res.setHeader('content-type', js ? 'text/javascript' : 'text/html');
      res.end(js ? offerJs : html);
    }).listen(this.httpPort, '127.0.0.1');
    this.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 60000, args: FLAGS });
    return this;
  }

  async newPage() {
    const page = await this.browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error' || process.env.E2E_VERBOSE) console.error('[page]', m.text()); });
    await page.goto(`http://127.0.0.1:${this.httpPort}/`);
    return page;
  }

  // SIGTERM mediad: its exit code.
  stopMediad() {
    const m = this.procs.find((p) => p.name === 'mediad');
    const code = new Promise((r) => m.once('exit', (c) => r(c)));
    m.kill('SIGTERM');
    return code;
  }

  async stop() {
    await this.browser?.close().catch(() => {});
    this.http?.close();
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGTERM');
    for (const p of this.procs) {
      if (p.exitCode === null && !await Promise.race([new Promise((r) => p.once('exit', () => r(true))), sleep(5000)])) p.kill('SIGKILL');
    }
    if (process.env.E2E_VERBOSE) console.error(this.log.join(''));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
