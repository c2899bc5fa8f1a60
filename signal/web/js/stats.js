// stats.js - connection quality of a peer from getStats(): relay or direct,
// round-trip time, packet loss, inbound video bytes.
const prev = new WeakMap();

export async function quality(pc) {
  const r = await pc.getStats();
  const by = new Map();
  r.forEach((s) => by.set(s.id, s));
  let pair = null;
  r.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = by.get(s.selectedCandidatePairId); });
  if (!pair) r.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
  const out = { connected: !!pair, local: null, remote: null, relay: false, rtt: null, loss: 0, inVideoBytes: 0,
    inAudioBytes: 0, outBytes: 0, framesDecoded: 0, relayProtocol: null };
  if (pair) {
    const l = by.get(pair.localCandidateId), rm = by.get(pair.remoteCandidateId);
    out.local = l && l.candidateType;
    out.remote = rm && rm.candidateType;
    out.relayProtocol = l && l.relayProtocol;
    out.relay = out.local === 'relay' || out.remote === 'relay';
    if (pair.currentRoundTripTime !== undefined) out.rtt = Math.round(pair.currentRoundTripTime * 1000);
  }
  let lost = 0, got = 0;
  r.forEach((s) => {
    if (s.type === 'inbound-rtp') {
      lost += s.packetsLost || 0; got += s.packetsReceived || 0;
      if (s.kind === 'video') { out.inVideoBytes += s.bytesReceived || 0; out.framesDecoded += s.framesDecoded || 0; }
      if (s.kind === 'audio') out.inAudioBytes += s.bytesReceived || 0;
    }
    if (s.type === 'outbound-rtp') out.outBytes += s.bytesSent || 0;
  });
  const p = prev.get(pc) || { lost: 0, got: 0 };
  const dl = lost - p.lost, dg = got - p.got;
  out.loss = dl + dg > 0 ? Math.max(0, Math.round((1000 * dl) / (dl + dg)) / 10) : 0;
  prev.set(pc, { lost, got });
  out.level = !pair ? 0 : (out.rtt !== null && out.rtt > 400) || out.loss > 8 ? 1 : (out.rtt !== null && out.rtt > 200) || out.loss > 2 ? 2 : 3;
  return out;
}
