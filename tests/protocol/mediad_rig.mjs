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

// An offer like the client's: its own audio and video sendrecv (video with an
// FID group, as Chromium writes it), then recvonly pairs up to pairs (no
// ICE follows: mediad answers, publishes and switches slots all the same).
export function sfuOffer(ssrc, pairs) {
  const mids = [];
  let body = '';
  for (let j = 0; j < pairs; j++) {
    for (const kind of ['audio', 'video']) {
      const mid = mids.length;
      mids.push(mid);
      body += kind === 'audio'
        ? 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n'
        : 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n';
      body += `a=mid:${mid}\r\na=rtcp-mux\r\n`;
      if (j > 0) body += 'a=recvonly\r\n';
      else if (kind === 'audio') body += `a=sendrecv\r\na=ssrc:${ssrc[0]} cname:t\r\n`;
      else body += `a=sendrecv\r\na=ssrc-group:FID ${ssrc[1]} ${ssrc[1] + 1}\r\na=ssrc:${ssrc[1]} cname:t\r\na=ssrc:${ssrc[1] + 1} cname:t\r\n`;
    }
  }
  const fp = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16).toUpperCase()).join(':');
  return 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
    `a=group:BUNDLE ${mids.join(' ')}\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n` +
    `a=fingerprint:sha-256 ${fp}\r\na=setup:actpass\r\n${body}`;
}

export class MediadRig {
  // srv: a Server whose config holds media_socket = "MEDIA_SOCKET"; mediadArgs: more flags for mediad.
  constructor(srv, mediadArgs = []) {
    this.srv = srv;
    this.mediadArgs = mediadArgs;
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
      '--workers', '2', '--turn-url', srv.turnUrl, '--turn-secret-file', srv.secretFile, ...this.mediadArgs]);
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

  // A media-load --speak device: its offer goes to signald as the device's
  // (ws) call.sfu.offer, signald's answer back to it on its stdin; stop()
  // ends it with the rest. heard(key) waits for media-load's line with key.
  async speak(mediaLoad, ws, name, callId, level, seconds) {
    const p = spawn(mediaLoad, ['--speak', String(level), '--seconds', String(seconds)], { stdio: ['pipe', 'pipe', 'pipe'] });
    p.stderr.on('data', (d) => this.log.push(`[speak-${name}] ${d}`));
    this.procs.push(p);
    const said = [];
    let wake = () => {};
    createInterface({ input: p.stdout }).on('line', (l) => { said.push(JSON.parse(l)); wake(); });
    const exited = new Promise((r) => p.once('exit', r));
    const heard = async (key, ms = 20000) => {
      const t0 = Date.now();
      while (!said.some((m) => key in m)) {
        if (Date.now() - t0 > ms) throw new Error(`${name}: no "${key}" from media-load:\n${this.log.join('')}`);
        await new Promise((r) => { wake = r; setTimeout(r, 100); });
      }
      return said.find((m) => key in m)[key];
    };
    const offer = await heard('offer');
    const { sdp } = await ws.request('call.sfu.offer', { call: callId, sdp: offer });
    p.stdin.write(`${JSON.stringify({ answer: sdp })}\n`); // at once: mediad's ICE does not wait long
    return { offer, sdp, heard, exited };
  }

  // mediad stops, as if it had crashed.
  async killMediad() {
    const gone = new Promise((r) => this.mediad.once('exit', r));
    this.mediad.kill('SIGTERM');
    await gone;
  }
}
