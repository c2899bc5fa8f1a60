// views/echo.js - "Test my call": your camera and microphone go to the
// appliance's media service (through turnd when the policy is relay-only) and
// come back; the dialog shows what came back and how the path behaves.
import { h } from '../dom.js';
import { t } from '../i18n.js';
import * as store from '../store.js';
import { quality } from '../stats.js';
import { modal } from './dialog.js';

function gathered(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === 'complete') { pc.removeEventListener('icegatheringstatechange', done); resolve(); } };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, ms); // send what there is
  });
}

async function jitterMs(pc) {
  let j = null;
  (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.jitter !== undefined) j = Math.round(s.jitter * 1000); });
  return j;
}

export function echoDialog() {
  const video = h('video.echo-video', { autoplay: true, playsInline: true, muted: true });
  const state = h('p.echo-state', { text: t('echo.intro') });
  const rows = {};
  const table = h('dl.echo-stats', ...['path', 'rtt', 'loss', 'jitter', 'received'].flatMap((k) => {
    rows[k] = h('dd', { text: '–' });
    return [h('dt', { text: t(`echo.${k}`) }), rows[k]];
  }));
  let pc = null, stream = null, session = null, timer = null;
  const startBtn = h('button.btn.primary', { type: 'button', text: t('echo.start'), 'data-action': 'echo-start', on: { click: () => start() } });

  async function stop() {
    clearInterval(timer);
    timer = null;
    if (session) store.request('media.close', { session }).catch(() => {});
    session = null;
    if (pc) pc.close();
    if (stream) stream.getTracks().forEach((tr) => tr.stop());
    pc = stream = null;
  }

  async function update() {
    if (!pc) return;
    const q = await quality(pc);
    const j = await jitterMs(pc);
    rows.path.textContent = q.connected ? `${q.local === 'relay' ? t('echo.relay') : t('echo.direct')} (${(q.relayProtocol || 'udp').toUpperCase()})` : '–';
    rows.rtt.textContent = q.rtt === null ? '–' : `${q.rtt} ms`;
    rows.loss.textContent = `${q.loss} %`;
    rows.jitter.textContent = j === null ? '–' : `${j} ms`;
    rows.received.textContent = `${Math.round((q.inVideoBytes + q.inAudioBytes) / 1024)} KiB`;
    table.dataset.state = q.connected && q.inVideoBytes > 0 ? 'ok' : 'waiting';
    table.dataset.path = q.local || '';
    table.dataset.videoBytes = String(q.inVideoBytes);
    table.dataset.audioBytes = String(q.inAudioBytes);
    if (q.connected && q.inVideoBytes > 0) state.textContent = t('echo.ok');
  }

  async function start() {
    await stop();
    startBtn.disabled = true;
    state.textContent = t('echo.connecting');
    try {
      const cfg = await store.request('turn.credentials');
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      pc = new RTCPeerConnection({ iceServers: cfg.iceServers, iceTransportPolicy: cfg.iceTransportPolicy || 'relay' });
      const back = new MediaStream();
      pc.ontrack = (e) => { back.addTrack(e.track); video.srcObject = back; };
      stream.getTracks().forEach((tr) => pc.addTrack(tr, stream));
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 5000);
      const r = await store.request('media.echo', { sdp: pc.localDescription.sdp }, 20000);
      session = r.session;
      await pc.setRemoteDescription({ type: 'answer', sdp: r.sdp });
      timer = setInterval(update, 1000);
    } catch (e) {
      state.textContent = `${t('echo.failed')} ${e.message || e}`;
      await stop();
    } finally {
      startBtn.disabled = false;
    }
  }

  modal(t('echo.title'), h('div.echo', state, video, table),
    { actions: [startBtn], onClose: () => stop(), className: 'echo-dialog' });
}
