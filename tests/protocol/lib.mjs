// lib.mjs - what the protocol tests share: a real signald (and turnd) in a
// temporary directory on loopback, HTTPS calls with the test's own CA, and a
// WebSocket client that matches replies to requests and queues events.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import net from 'node:net';
import WebSocket from 'ws';

const SIGNALD = process.env.SIGNALD;
const TURND = process.env.TURND;
export const PORT_BASE = Number(process.env.LANTURN_PORT_BASE || 26000);
export const PASSWORD = 'correct horse battery';
const SCRYPT_N = '16384'; // the lowest cost signald accepts; keeps tests quick

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

function makeCert(dir) {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
}

// A signald with its own data directory, certificate, ports and users.
export class Server {
  constructor(name, { httpsPort, wsPort, config = '', users = ['alice', 'bob', 'carol'] } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), `lanturn-${name}-`));
    this.httpsPort = httpsPort;
    this.wsPort = wsPort;
    makeCert(this.dir);
    this.ca = readFileSync(join(this.dir, 'cert.pem'));
    this.secretFile = join(this.dir, 'turn-secret');
    writeFileSync(this.secretFile, 'test-turn-secret-0123456789\n', { mode: 0o600 });
    this.configFile = join(this.dir, 'lanturn.conf');
    writeFileSync(this.configFile, `signal: {\n${config}\n};\n`);
    writeFileSync(join(this.dir, 'pw'), PASSWORD + '\n');
    this.data = join(this.dir, 'data');
    for (const [i, u] of users.entries()) {
      execFileSync(SIGNALD, ['user', 'add', u, ...(i === 0 ? ['--admin'] : []), '--password-file',
        join(this.dir, 'pw'), '-d', this.data, '--scrypt-n', SCRYPT_N], { stdio: 'ignore' });
    }
    this.turnUrl = `turn:127.0.0.1:${wsPort + 1}?transport=udp`;
    this.log = join(this.dir, 'signald.log');
    this.controlSocket = join(this.dir, 'control.sock');
    this.proc = null;
  }

  args() {
    return ['--config', this.configFile, '-d', this.data,
      '--listen', `127.0.0.1:${this.httpsPort}`, '--ws-listen', `127.0.0.1:${this.wsPort}`,
      '--tls-cert', join(this.dir, 'cert.pem'), '--tls-key', join(this.dir, 'key.pem'),
      '--web-root', new URL('../../signal/web', import.meta.url).pathname,
      '--turn-url', this.turnUrl, '--turn-secret-file', this.secretFile,
      '--scrypt-n', SCRYPT_N, '--log-level', 'debug', '--control-socket', this.controlSocket];
  }

  async start() {
    const out = [];
    this.proc = spawn(process.env.SIGNALD_WRAPPER ? process.env.SIGNALD_WRAPPER : SIGNALD,
      process.env.SIGNALD_WRAPPER ? [SIGNALD, ...this.args()] : this.args(),
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => out.push(d));
    this.proc.stderr.on('data', (d) => out.push(d));
    this.output = out;
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
    for (let i = 0; i < 200; i++) {
      try {
        const r = await this.http('GET', '/healthz');
        if (r.status === 200) return;
      } catch { /* not up yet */ }
      await sleep(50);
    }
    throw new Error(`signald did not start:\n${Buffer.concat(out)}`);
  }

  async stop() {
    if (!this.proc) return { code: 0 };
    this.proc.kill('SIGTERM');
    const r = await Promise.race([this.exited, sleep(10000).then(() => null)]);
    if (!r) { this.proc.kill('SIGKILL'); throw new Error('signald did not stop on SIGTERM'); }
    this.proc = null;
    return r;
  }

  logText() { return this.output ? Buffer.concat(this.output).toString() : ''; }

  cleanup() { rmSync(this.dir, { recursive: true, force: true }); }

  // One HTTPS request; resolves {status, headers, body (Buffer), json}.
  http(method, path, { body, token, headers = {}, cookie } = {}) {
    return new Promise((resolve, reject) => {
      const h = { ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      if (cookie) h.cookie = cookie;
      let payload = body;
      if (body !== undefined && !Buffer.isBuffer(body) && typeof body !== 'string') {
        payload = JSON.stringify(body);
        h['content-type'] = 'application/json';
      }
      if (payload !== undefined) h['content-length'] = Buffer.byteLength(payload);
      const req = https.request({ host: '127.0.0.1', port: this.httpsPort, method, path, headers: h,
        ca: this.ca, servername: 'localhost', agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          let json;
          try { json = JSON.parse(buf.toString()); } catch { json = undefined; }
          resolve({ status: res.statusCode, headers: res.headers, body: buf, json });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(20000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  // One request on the control socket; resolves the parsed reply.
  control(req) {
    return new Promise((resolve, reject) => {
      const sock = net.createConnection(this.controlSocket);
      let data = '';
      sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
      sock.on('data', (d) => { data += d; });
      sock.on('end', () => { try { resolve(JSON.parse(data)); } catch (e) { reject(e); } });
      sock.on('error', reject);
    });
  }

  async login(name, password = PASSWORD) {
    const r = await this.http('POST', '/api/login', { body: { name, password } });
    if (r.status !== 200) throw new Error(`login ${name}: ${r.status} ${r.body}`);
    return r.json;
  }

  // A WebSocket client that has said hello (unless hello: false).
  // autoPong: false makes a client that never answers the server's pings.
  // batch: true says the client takes events in {"type":"batch"} messages.
  async connect(session, { since, hello = true, port = this.wsPort, autoPong = true, batch } = {}) {
    const c = new Client(`wss://127.0.0.1:${port}/`, this.ca, { autoPong });
    await c.open();
    if (hello) {
      c.helloReply = await c.request('hello', { token: session.token, ...(since !== undefined ? { since } : {}),
        ...(batch !== undefined ? { batch } : {}) });
    }
    return c;
  }
}

export class Client {
  constructor(url, ca, { autoPong = true } = {}) {
    this.url = url;
    this.ca = ca;
    this.autoPong = autoPong;
    this.pings = 0;
    this.nextId = 1;
    this.pending = new Map();
    this.events = [];
    this.waiters = [];
    this.closed = null;
    this.lastSeq = 0;
    this.received = []; // per WebSocket message: {type, id, bytes, events (in a batch)}
  }

  open() {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(this.url, 'lanturn.v1', { ca: this.ca, servername: 'localhost', maxPayload: 16 << 20,
        autoPong: this.autoPong });
      this.ws.on('ping', () => { this.pings++; });
      this.ws.on('open', resolve);
      this.ws.on('error', reject);
      this.ws.on('message', (data) => {
        const m = JSON.parse(data.toString());
        this.received.push({ type: m.type, id: m.id, bytes: data.length, events: m.type === 'batch' ? m.events.length : 0 });
        this.onMessage(m);
      });
      this.closedPromise = new Promise((res) => this.ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        for (const [, p] of this.pending) p.reject(new Error(`closed ${code} ${reason}`));
        this.pending.clear();
        res(this.closed);
      }));
    });
  }

  onMessage(m) {
    if (m.type === 'batch') { // events in order, each as if it came alone
      for (const e of m.events) this.onMessage(e);
      return;
    }
    if (m.type === 'reply' || (m.type === 'error' && m.id !== undefined && this.pending.has(m.id))) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'reply') p.resolve(m.result);
      else p.reject(Object.assign(new Error(`${m.error.code}: ${m.error.message}`), { code: m.error.code }));
      return;
    }
    if (m.type === 'event' && m.seq !== undefined) {
      // seqs are positions in the server's one stream: they skip, but never go back
      if (m.seq <= this.lastSeq) this.seqBackwards = [this.lastSeq, m.seq];
      this.lastSeq = m.seq;
    }
    this.events.push(m);
    for (const w of [...this.waiters]) {
      if (w.pred(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        this.events.splice(this.events.indexOf(m), 1);
        w.resolve(m);
        return;
      }
    }
  }

  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }

  request(type, fields = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ id, type, ...fields });
      setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`no reply to ${type} in 15 s`));
      }, 15000).unref();
    });
  }

  // The first queued or future message matching pred (an event name or a function).
  next(pred, timeoutMs = 10000) {
    const fn = typeof pred === 'string' ? (m) => m.event === pred : pred;
    const i = this.events.findIndex(fn);
    if (i >= 0) return Promise.resolve(this.events.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const w = { pred: fn, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        const k = this.waiters.indexOf(w);
        if (k >= 0) { this.waiters.splice(k, 1); reject(new Error(`no ${typeof pred === 'string' ? pred : 'matching'} event in ${timeoutMs} ms`)); }
      }, timeoutMs).unref();
    });
  }

  // Nothing matching pred arrives within ms.
  async none(pred, ms = 500) {
    try { const m = await this.next(pred, ms); throw new Error(`unexpected ${JSON.stringify(m)}`); }
    catch (e) { if (!/^no /.test(e.message)) throw e; }
  }

  close() { this.ws.close(1000); return this.closedPromise; }
}

export function tempDir(name) {
  const d = mkdtempSync(join(tmpdir(), `lanturn-${name}-`));
  mkdirSync(d, { recursive: true });
  return d;
}

export { TURND, SIGNALD };
