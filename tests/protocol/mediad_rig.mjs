// mediad_rig.mjs - what the protocol tests of calls through mediad share: a
// real turnd and mediad (room mode) beside signald, mediad's control socket,
// and the logins of the users.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PORT_BASE, TURND, sleep } from './lib.mjs';

export const MEDIAD = process.env.MEDIAD;
export const skip = (!MEDIAD || !existsSync(MEDIAD) || !TURND) && 'mediad or turnd missing';

export class MediadRig {
  // srv: a Server whose config holds media_socket = "MEDIA_SOCKET".
  constructor(srv) {
    this.srv = srv;
    this.sock = join(srv.dir, 'mediad.sock');
    this.procs = [];
    this.log = [];
  }

  run(name, argv) {
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const out of [p.stdout, p.stderr]) out.on('data', (d) => this.log.push(`[${name}] ${d}`));
    this.procs.push(p);
    return p;
  }

  // One control request to mediad over a fresh connection; its one-line answer
  // (mediad's own events, lines with "event" and no "req", are not answers).
  async request(req) {
    const c = createConnection(this.sock);
    c.write(`${JSON.stringify(req)}\n`);
    const lines = createInterface({ input: c });
    try {
      for await (const line of lines) {
        const m = JSON.parse(line);
        if (m.event === undefined || m.req !== undefined) return m;
      }
      throw new Error('mediad closed the control connection without answering');
    } finally {
      lines.close();
      c.destroy();
    }
  }

  // turnd, mediad, then signald; dev[user] = { session, ws } for each user.
  async start(users, dev) {
    const srv = this.srv;
    writeFileSync(srv.configFile, readFileSync(srv.configFile, 'utf8').replace('MEDIA_SOCKET', this.sock));
    const turnPort = PORT_BASE + 2; // srv.turnUrl
    this.run('turnd', [TURND, '--listen', `127.0.0.1:${turnPort}`, '--no-tcp', '--relay-ip', '127.0.0.1',
      '--relay-ports', `${PORT_BASE + 10}-${PORT_BASE + 19}`, '--secret-file', srv.secretFile]);
    // Two workers: rooms and sessions run on threads apart from the control socket.
    this.mediad = this.run('mediad', [MEDIAD, '--control-socket', this.sock, '--ice-address', '127.0.0.1',
      '--workers', '2', '--turn-url', srv.turnUrl, '--turn-secret-file', srv.secretFile]);
    for (let i = 0; ; i++) {
      try { if ((await this.request({ cmd: 'stats' })).ok) break; } catch { /* not yet */ }
      if (i > 100) throw new Error(`mediad did not come up:\n${this.log.join('')}`);
      await sleep(50);
    }
    await srv.start();
    for (const u of users) {
      const session = await srv.login(u);
      dev[u] = { session, ws: await srv.connect(session) };
    }
  }

  // Every device closed, signald stopped (it must exit cleanly), the rest killed.
  async stop(dev) {
    for (const d of Object.values(dev)) if (!d.ws.closed) await d.ws.close();
    const r = await this.srv.stop();
    for (const p of this.procs) p.kill('SIGTERM');
    if (r.code !== 0) throw new Error(`signald exited with ${r.code}:\n${this.srv.logText()}`);
    this.srv.cleanup();
  }

  // mediad stops, as if it had crashed.
  async killMediad() {
    const gone = new Promise((r) => this.mediad.once('exit', r));
    this.mediad.kill('SIGTERM');
    await gone;
  }
}
