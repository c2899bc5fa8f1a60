// sound.js - notification chime and ringtone synthesised with WebAudio (no files).
let ctx = null;
function audio() {
  if (!ctx) {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    ctx = new AC();
  }
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}

function tone(freq, start, dur, gain = 0.15, type = 'sine') {
  const a = audio();
  if (!a) return;
  const o = a.createOscillator(), g = a.createGain();
  o.type = type;
  o.frequency.value = freq;
  const t0 = a.currentTime + start;
  g.gain.setValueAtTime(0, t0);
  g.gain.linearRampToValueAtTime(gain, t0 + 0.015);
  g.gain.exponentialRampToValueAtTime(0.0001, t0 + dur);
  o.connect(g).connect(a.destination);
  o.start(t0);
  o.stop(t0 + dur + 0.05);
}

export function chime() { tone(880, 0, 0.25); tone(1318.5, 0.11, 0.4); }

let ringTimer = null;
export function startRing(outgoing = false) {
  stopRing();
  const once = outgoing ? () => { tone(440, 0, 0.9, 0.06); tone(480, 0, 0.9, 0.06); }
    : () => { for (let i = 0; i < 2; i++) { tone(784, i * 0.35, 0.3, 0.12, 'triangle'); tone(988, i * 0.35 + 0.15, 0.3, 0.1, 'triangle'); } };
  once();
  ringTimer = setInterval(once, outgoing ? 3000 : 2200);
}
export function stopRing() { clearInterval(ringTimer); ringTimer = null; }

// Browsers only allow audio after a user gesture; call this from one.
export function unlock() { audio(); }
