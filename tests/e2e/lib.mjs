// lib.mjs - what the browser end-to-end tests share: a real turnd and signald
// on 127.0.0.1 (self-signed certificate, users, a TURN secret) and headless
// Debian Chromium driven by playwright-core, one fresh profile per user.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import net from 'node:net';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..');
export const SIGNALD = process.env.SIGNALD || join(ROOT, 'build/signal/signald');
export const TURND = process.env.TURND || join(ROOT, 'build/turnd/turnd');
export const MEDIAD = process.env.MEDIAD || join(ROOT, 'build/signal/media/mediad');
export const PORT_BASE = Number(process.env.LANTURN_PORT_BASE || 27000);
export const PASSWORD = 'correct horse battery';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// screenshots go to the build tree (or a temp dir); the good ones are copied to docs/screenshots by hand
export const SHOTS = process.env.LANTURN_SHOTS || join(tmpdir(), 'lanturn-e2e-shots');
const SCRYPT_N = '16384';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// fn() until ok(value), every half second; after ms, an error naming what and the last value.
export async function until(what, fn, ok, ms = 45000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: ${JSON.stringify(v)}`);
    await sleep(500);
  }
}

export const CHROME_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--ignore-certificate-errors',
  '--autoplay-policy=no-user-gesture-required', '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows'];

function waitExit(proc, ms) {
  return Promise.race([new Promise((r) => proc.once('exit', () => r(true))), sleep(ms).then(() => false)]);
}

// A turnd + signald pair with its own directory, certificate and users.
// opts.host: the address Chromium uses (default 127.0.0.1), listenHost: signald's (default host);
// turnHosts: turnd's listen addresses, the first also its relay address;
// opts.wrap: argv prefix to run the daemons with (e.g. ['ip', 'netns', 'exec', 'srv']).
export class Appliance {
  constructor(name, { base = PORT_BASE, host = '127.0.0.1', listenHost, users = ['alice', 'bob', 'carol'], tcp = false, wrap = [], turnHosts, media = false } = {}) {
    this.media = media;
    this.dir = mkdtempSync(join(tmpdir(), `lanturn-e2e-${name}-`));
    this.host = host;
    this.listenHost = listenHost || host;
    this.httpsPort = base;
    this.wsPort = base + 1;
    this.turnPort = base + 2;
    this.relayPorts = `${base + 100}-${base + 199}`;
    this.tcp = tcp;
    this.wrap = wrap;
    this.turnHosts = turnHosts || [host];
    this.procs = [];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', '/CN=lanturn-e2e', '-addext', `subjectAltName=IP:${host},DNS:localhost`,
      '-keyout', join(this.dir, 'key.pem'), '-out', join(this.dir, 'cert.pem')], { stdio: 'ignore' });
    this.secretFile = join(this.dir, 'turn-secret');
    writeFileSync(this.secretFile, 'e2e-turn-secret-0123456789abcdef\n', { mode: 0o600 });
    writeFileSync(join(this.dir, 'pw'), `${PASSWORD}\n`);
    this.data = join(this.dir, 'data');
    for (const [i, u] of users.entries()) {
      const display = u[0].toUpperCase() + u.slice(1);
      execFileSync(SIGNALD, ['user', 'add', u, ...(i === 0 ? ['--admin'] : []), '--display-name', display,
        '--password-file', join(this.dir, 'pw'), '-d', this.data, '--scrypt-n', SCRYPT_N], { stdio: 'ignore' });
    }
    this.url = `https://${host}:${this.httpsPort}/`;
    this.log = [];
  }

  spawn(name, argv) {
    const [cmd, ...args] = [...this.wrap, ...argv];
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout.on('data', (d) => this.log.push(`[${name}] ${d}`));
    p.stderr.on('data', (d) => this.log.push(`[${name}] ${d}`));
    p.name = name;
    this.procs.push(p);
    return p;
  }

  async start() {
    // another run of the same test (another build tree) would take our ports: say so plainly
    if (!this.wrap.length) {
      for (const port of [this.httpsPort, this.wsPort]) {
        if (!await portFree(this.host, port)) throw new Error(`port ${this.host}:${port} is in use (another e2e run?); set LANTURN_PORT_BASE`);
      }
    }
    const transport = this.tcp ? 'tcp' : 'udp';
    const listen = this.turnHosts.flatMap((h) => ['--listen', `${h}:${this.turnPort}`]);
    this.turndArgv = [TURND, ...listen, '--relay-ip', this.turnHosts[0], '--relay-ports', this.relayPorts,
      '--secret-file', this.secretFile, ...(this.tcp ? [] : ['--no-tcp']), '--log-level', 'info'];
    this.spawn('turnd', this.turndArgv);
    const turnUrls = this.turnHosts.flatMap((h) => ['--turn-url', `turn:${h}:${this.turnPort}?transport=${transport}`]);
    const mediaArgs = [];
    if (this.media) { // mediad for "test my call", relaying through the same turnd
      const sock = join(this.dir, 'mediad.sock');
      this.spawn('mediad', [MEDIAD, '--control-socket', sock, '--ice-address', this.turnHosts[0],
        '--turn-url', `turn:${this.turnHosts[0]}:${this.turnPort}?transport=udp`, '--turn-secret-file', this.secretFile]);
      for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(50);
      mediaArgs.push('--media-socket', sock);
    }
    this.spawn('signald', [SIGNALD, '-d', this.data, '--listen', `${this.listenHost}:${this.httpsPort}`,
      '--ws-listen', `${this.listenHost}:${this.wsPort}`, '--tls-cert', join(this.dir, 'cert.pem'), '--tls-key', join(this.dir, 'key.pem'),
      '--web-root', join(ROOT, 'signal/web'), ...turnUrls, '--turn-secret-file', this.secretFile,
      '--scrypt-n', SCRYPT_N, '--log-level', 'info', ...mediaArgs]);
    for (let i = 0; i < 200; i++) {
      for (const p of this.procs) if (p.exitCode !== null) throw new Error(`${p.name} exited ${p.exitCode}:\n${this.log.join('')}`);
      if (await this.healthy()) return this;
      await sleep(50);
    }
    throw new Error(`signald did not come up:\n${this.log.join('')}`);
  }

  // kill -9 turnd and start it again, as applianced does after a crash.
  async crashTurnd() {
    const old = this.procs.find((p) => p.name === 'turnd' && p.exitCode === null);
    old.kill('SIGKILL');
    await waitExit(old, 5000);
    this.procs = this.procs.filter((p) => p !== old);
    this.spawn('turnd', this.turndArgv);
  }

  // GET /healthz, from inside the daemons' namespace when they run in one.
  async healthy() {
    if (this.wrap.length) {
      try {
        execFileSync(this.wrap[0], [...this.wrap.slice(1), 'curl', '-sfk', '--max-time', '2', `${this.url}healthz`], { stdio: 'ignore' });
        return true;
      } catch { return false; }
    }
    try { return (await fetch(`${this.url}healthz`)).ok; } catch { return false; }
  }

  async stop() {
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGTERM');
    for (const p of this.procs) if (p.exitCode === null && !await waitExit(p, 5000)) p.kill('SIGKILL');
    this.procs = [];
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function portFree(host, port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

// Healthz over fetch needs the self-signed certificate accepted.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
process.removeAllListeners('warning');

// One Chromium with a fresh profile. opts.exe may be a wrapper (netns).
export async function launch(label, { exe = CHROMIUM, extraFlags = [], env = {}, viewport = { width: 1280, height: 800 } } = {}) {
  const udd = mkdtempSync(join(tmpdir(), `lanturn-e2e-udd-${label}-`));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: exe, headless: true, args: [...CHROME_FLAGS, ...extraFlags], ignoreHTTPSErrors: true,
    viewport, env: { ...process.env, ...env }, timeout: 60000, locale: 'en-US',
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.label = label;
  page.errors = [];
  page.on('pageerror', (e) => { page.errors.push(e.message); console.error(`[${label} pageerror]`, e.message); });
  page.on('console', (m) => {
    if (m.type() === 'error' || process.env.E2E_VERBOSE) console.error(`[${label} console.${m.type()}]`, m.text());
  });
  return { ctx, page, close: async () => { await ctx.close().catch(() => {}); rmSync(udd, { recursive: true, force: true }); } };
}

export async function login(page, url, name, password = PASSWORD) {
  // A page load aborted because the host's network changed (another process
  // added a link) is retried: that is Chromium being careful, not our server.
  // The change can also abort one of the page's modules after the page itself
  // loaded: then the sign-in form never appears, and a reload fixes it.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url);
      await page.waitForSelector('#login-name', { timeout: 10000 });
      break;
    } catch (e) {
      if (attempt >= 4 || !/ERR_NETWORK_CHANGED|Timeout/.test(e.message)) throw e;
      await sleep(1000);
    }
  }
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('.sidebar', { timeout: 15000 });
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

export function haveChromium() { return existsSync(CHROMIUM); }
