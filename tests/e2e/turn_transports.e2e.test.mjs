// turn_transports.e2e.test.mjs - Chromium's own TURN client reaching turnd over
// TCP (turn:127.0.0.1:PORT?transport=tcp) and TLS (turns:localhost:PORT, a
// self-signed certificate Chromium accepts through --ignore-certificate-errors).
// Two pages in one headless Chromium each hold an RTCPeerConnection with
// iceTransportPolicy 'relay' and one TURN URL; the test carries the SDP between
// them (no signald). Each run proves, through getStats(), that the selected
// pair is relay/relay with the local candidate's relayProtocol equal to the
// transport under test, and that video bytes and decoded frames grow on both
// sides; turnd's log shows the allocations came over that transport.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TURND, PORT_BASE, launch, haveChromium, sleep } from './lib.mjs';

const T = 30000;
const USER = 'e2e', PASS = 'relay-transports';
const HTTP_PORT = PORT_BASE, TURN_PORT = PORT_BASE + 2, TLS_PORT = PORT_BASE + 3;
const RELAY_PORTS = `${PORT_BASE + 100}-${PORT_BASE + 199}`;
const skip = !haveChromium() && 'chromium is not installed (apt-get install chromium)';

let dir, turnd, http, browser;
const turndLog = [];

// The two-peer page: getUserMedia's fake camera, one RTCPeerConnection.
const PAGE = `<!doctype html><meta charset="utf-8"><title>relay transports</title>
<script>
window.peer = {
  async start(iceServers) {
    if (window.pc) window.pc.close();
    const pc = window.pc = new RTCPeerConnection({ iceServers, iceTransportPolicy: 'relay' });
    window.stream = window.stream || await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false });
    for (const t of window.stream.getTracks()) pc.addTrack(t, window.stream);
  },
  async gathered() {
    const pc = window.pc;
    if (pc.iceGatheringState !== 'complete') {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('ICE gathering did not complete')), 20000);
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
        });
      });
    }
    return pc.localDescription.sdp;
  },
  async offer() {
    await window.pc.setLocalDescription(await window.pc.createOffer());
    return window.peer.gathered();
  },
  async answer(sdp) {
    await window.pc.setRemoteDescription({ type: 'offer', sdp });
    await window.pc.setLocalDescription(await window.pc.createAnswer());
    return window.peer.gathered();
  },
  async accept(sdp) { await window.pc.setRemoteDescription({ type: 'answer', sdp }); },
  async stats() {
    const pc = window.pc, r = await pc.getStats(), by = new Map();
    r.forEach((s) => by.set(s.id, s));
    let pair = null;
    r.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = by.get(s.selectedCandidatePairId); });
    const l = pair && by.get(pair.localCandidateId), rm = pair && by.get(pair.remoteCandidateId);
    const out = { state: pc.connectionState, local: l ? l.candidateType : null, remote: rm ? rm.candidateType : null,
      relayProtocol: l ? l.relayProtocol : null, url: l ? l.url : null, inVideoBytes: 0, framesDecoded: 0, outVideoBytes: 0 };
    r.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') { out.inVideoBytes += s.bytesReceived || 0; out.framesDecoded += s.framesDecoded || 0; }
      if (s.type === 'outbound-rtp' && s.kind === 'video') out.outVideoBytes += s.bytesSent || 0;
    });
    return out;
  },
};
</script>`;

function waitPort(port, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tryOnce = () => {
      const s = new net.Socket();
      s.once('connect', () => { s.destroy(); resolve(); });
      s.once('error', () => { s.destroy(); if (Date.now() - t0 > ms) reject(new Error(`nothing listens on ${port}`)); else setTimeout(tryOnce, 50); });
      s.connect(port, '127.0.0.1');
    };
    tryOnce();
  });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'lanturn-e2e-transports-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  turnd = spawn(TURND, ['--listen', `127.0.0.1:${TURN_PORT}`, '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'),
    '--tls-listen', `127.0.0.1:${TLS_PORT}`, '--relay-ip', '127.0.0.1', '--relay-ports', RELAY_PORTS,
    '--user', `${USER}:${PASS}`, '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'pipe'] });
  turnd.stdout.on('data', (d) => turndLog.push(String(d)));
  turnd.stderr.on('data', (d) => turndLog.push(String(d)));
  http = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); });
  await new Promise((resolve, reject) => { http.once('error', (e) => reject(new Error(`port ${HTTP_PORT}: ${e.message} (another e2e run?); set LANTURN_PORT_BASE`))); http.listen(HTTP_PORT, '127.0.0.1', resolve); });
  await waitPort(TURN_PORT);
  await waitPort(TLS_PORT);
  if (turnd.exitCode !== null) throw new Error(`turnd exited ${turnd.exitCode}:\n${turndLog.join('')}`);
  browser = await launch('transports');
});

after(async () => {
  await browser?.close();
  http?.close();
  if (turnd && turnd.exitCode === null) {
    turnd.kill('SIGTERM');
    await Promise.race([new Promise((r) => turnd.once('exit', r)), sleep(5000)]);
    if (turnd.exitCode === null) turnd.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// One call between two pages over the given TURN URL; returns each side's two samples.
async function relayCall(url) {
  const iceServers = [{ urls: [url], username: USER, credential: PASS }];
  const a = await browser.ctx.newPage(), b = await browser.ctx.newPage();
  try {
    for (const p of [a, b]) {
      await p.goto(`http://127.0.0.1:${HTTP_PORT}/`);
      await p.evaluate((s) => window.peer.start(s), iceServers);
    }
    const offer = await a.evaluate(() => window.peer.offer());
    assert.match(offer, / typ relay /, `the offer has relay candidates from ${url}`);
    const answer = await b.evaluate((sdp) => window.peer.answer(sdp), offer);
    await a.evaluate((sdp) => window.peer.accept(sdp), answer);
    const t0 = Date.now();
    let first;
    for (;;) {
      first = await Promise.all([a, b].map((p) => p.evaluate(() => window.peer.stats())));
      if (first.every((s) => s.state === 'connected' && s.inVideoBytes > 0 && s.framesDecoded > 0)) break;
      if (first.some((s) => s.state === 'failed') || Date.now() - t0 > T) throw new Error(`not connected with video over ${url}: ${JSON.stringify(first)}`);
      await sleep(250);
    }
    await sleep(2000);
    const second = await Promise.all([a, b].map((p) => p.evaluate(() => window.peer.stats())));
    return [0, 1].map((i) => ({ ...second[i], videoBytes: [first[i].inVideoBytes, second[i].inVideoBytes],
      frames: [first[i].framesDecoded, second[i].framesDecoded] }));
  } finally {
    await a.close();
    await b.close();
  }
}

function checkSide(name, s, proto) {
  assert.equal(s.state, 'connected', `${name}: connected`);
  assert.equal(s.local, 'relay', `${name}: the selected pair's local candidate is relay: ${JSON.stringify(s)}`);
  assert.equal(s.remote, 'relay', `${name}: the selected pair's remote candidate is relay: ${JSON.stringify(s)}`);
  assert.equal(s.relayProtocol, proto, `${name}: relayProtocol ${proto}: ${JSON.stringify(s)}`);
  assert.ok(s.videoBytes[1] > s.videoBytes[0], `${name}: video bytes keep arriving: ${JSON.stringify(s)}`);
  assert.ok(s.frames[1] > s.frames[0], `${name}: video frames keep being decoded: ${JSON.stringify(s)}`);
}

// turnd's debug log: connections opened over TRANSPORT and allocations made since mark.
function turndSince(mark, transport) {
  const text = turndLog.slice(mark).join('');
  return { conns: (text.match(new RegExp(`event=conn_opened transport=${transport} `, 'g')) || []).length,
    allocs: (text.match(/event=alloc_created /g) || []).length };
}

for (const [proto, url] of [['tcp', `turn:127.0.0.1:${TURN_PORT}?transport=tcp`],
                            ['tls', `turns:localhost:${TLS_PORT}?transport=tcp`]]) {
  test(`relay-only call through turnd over TURN-${proto.toUpperCase()} (${url}) carries video both ways`, { skip, timeout: 90000 }, async () => {
    const mark = turndLog.length;
    const [ra, rb] = await relayCall(url);
    console.log(proto, 'A', JSON.stringify(ra), '\n' + proto, 'B', JSON.stringify(rb));
    checkSide('A', ra, proto);
    checkSide('B', rb, proto);
    const seen = turndSince(mark, proto);
    assert.ok(seen.conns >= 2, `turnd saw ${seen.conns} ${proto} connections`);
    assert.ok(seen.allocs >= 2, `turnd made ${seen.allocs} allocations`);
  });
}
