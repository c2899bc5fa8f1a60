// calls.mjs - in-page checks of a call for the e2e tests: getStats() through
// the client's own call state (the peers' RTCPeerConnections).
import { sleep } from './lib.mjs';

// Per peer: selected pair types, inbound video bytes and decoded frames.
export function snapshot(page) {
  return page.evaluate(async () => {
    const { calls } = await import('/js/call.js');
    const { quality } = await import('/js/stats.js');
    const c = calls.current;
    if (!c) return null;
    const out = [];
    for (const p of c.peers.values()) out.push({ user: p.user, state: p.pc.connectionState, ...(await quality(p.pc)) });
    return out;
  });
}

// Waits until every peer is connected, then samples twice: relay/relay and growing video.
export async function verifyMedia(page, { peers = 1, windowMs = 2500, timeoutMs = 30000 } = {}) {
  const t0 = Date.now();
  let first;
  for (;;) {
    first = await snapshot(page);
    if (first && first.length === peers && first.every((p) => p.state === 'connected' && p.inVideoBytes > 0)) break;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${page.label}: peers not connected with video: ${JSON.stringify(first)}`);
    await sleep(250);
  }
  await sleep(windowMs);
  const second = await snapshot(page);
  return first.map((a, i) => {
    const b = second[i];
    return { user: a.user, local: b.local, remote: b.remote, rtt: b.rtt, relayProtocol: b.relayProtocol,
      videoBytes: [a.inVideoBytes, b.inVideoBytes], frames: [a.framesDecoded, b.framesDecoded],
      ok: b.local === 'relay' && b.remote === 'relay' && b.inVideoBytes > a.inVideoBytes && b.framesDecoded > a.framesDecoded };
  });
}

// Size of the video shown on the screen-share stage (0 when none).
export function stageSize(page) {
  return page.evaluate(() => {
    const v = document.querySelector('.call-screen .stage video');
    return v && !document.querySelector('.call-screen .stage').hidden ? { w: v.videoWidth, h: v.videoHeight } : { w: 0, h: 0 };
  });
}
