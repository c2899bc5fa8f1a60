// views/broadcastui.js - presenting a screen to a room: the banner that says
// someone is presenting (Watch / dismiss, then a small pill), the
// presenter's panel (preview, how many watch, microphone, stop) and the
// viewer's full-size screen, with the message when the presentation ends.
import { h, svg, avatar, toast, fmtDuration } from '../dom.js';
import { I } from '../icons.js';
import { t } from '../i18n.js';
import * as store from '../store.js';
import { broadcasts } from '../broadcast.js';
import { quality } from '../stats.js';

function setStream(el, stream) {
  if (el.srcObject !== stream) el.srcObject = stream;
  if (stream && el.paused) el.play().catch(() => {});
}

const roomName = (id) => { const r = store.state.rooms.get(id); return r ? store.roomTitle(r) : ''; };

export function createBroadcastUI() {
  const banners = h('div.bc-banners', { 'aria-live': 'polite' });
  const ctl = (action, icon, label, fn, cls = '') => h(`button.ctl${cls}`, { type: 'button', 'data-action': action, title: label, 'aria-label': label, on: { click: fn } }, svg(icon));

  // --- presenter -------------------------------------------------------------
  const pVideo = h('video', { autoplay: true, playsinline: true, muted: true });
  const pTitle = h('strong.bc-title');
  const pViewers = h('span.bc-viewers', { role: 'status' });
  const pClock = h('span.bc-clock');
  const pControls = h('div.bc-controls');
  const panel = h('section.bc-panel', { hidden: true, 'aria-label': t('bc.present') },
    h('div.bc-preview', pVideo, h('span.bc-live', { text: t('bc.live') })),
    h('div.bc-info', pTitle, h('div.bc-sub', pViewers, pClock)), pControls);

  // --- viewer ----------------------------------------------------------------
  const vTitle = h('h2.call-title');
  const vStatus = h('span.call-status');
  const vQ = h('span.quality', { role: 'status' });
  const vVideo = h('video', { autoplay: true, playsinline: true, muted: true });
  const vAudio = h('audio', { autoplay: true });
  const vWait = h('div.bc-wait', h('span.spinner'), h('span'));
  const vEnded = h('div.bc-ended', { hidden: true, role: 'alert' });
  const stage = h('div.bc-stage', vVideo, vAudio, vWait, vEnded);
  const vControls = h('div.controls',
    ctl('fullscreen', I.expand, t('fullscreen'), () => (document.fullscreenElement ? document.exitFullscreen() : stage.requestFullscreen()).catch(() => {})),
    ctl('leave-broadcast', I.door, t('bc.leave'), () => broadcasts.stop(), '.red'));
  const viewer = h('div.bc-viewer', { hidden: true, role: 'dialog', 'aria-modal': 'false', 'aria-label': t('bc.watch') },
    h('header.call-top', h('div.call-heading', vTitle, h('div.call-sub', vStatus, vQ))),
    h('div.call-body', stage), vControls);

  const el = h('div.broadcasts', banners, panel, viewer);
  let timer = null;

  function drawBanners() {
    const c = broadcasts.current;
    const cards = [];
    for (const [id, k] of broadcasts.running) {
      if (c && c.id === id) continue;
      const who = store.state.users.get(k.caller) || { id: k.caller, name: '?' };
      const name = who.display_name || who.name;
      const watch = () => broadcasts.watch(id).catch((e) => toast(e.code === 'busy' ? t('call.inprogress') : t('bc.watch.failed', { msg: e.message }), 'error', 6000));
      const watchBtn = h('button.btn.primary', { type: 'button', 'data-action': 'watch', text: t('bc.watch'), on: { click: watch } });
      if (broadcasts.dismissed.has(id)) { // a small reminder that it still runs
        cards.push(h('div.bc-pill', { 'data-call': id }, h('span.bc-dot', { 'aria-hidden': 'true' }),
          h('span', { text: t('bc.from', { name }) }), watchBtn));
        continue;
      }
      cards.push(h('div.ring-card.bc-card', { role: 'alertdialog', 'data-call': id, 'aria-label': t('bc.from', { name }) },
        h('div.ring-pulse', avatar(who, 'md')),
        h('div.ring-text', h('strong', { text: t('bc.from', { name }) }), h('small', { text: t('bc.in', { room: roomName(k.room) }) })),
        h('div.ring-actions', watchBtn,
          h('button.icon-btn.bc-x', { type: 'button', 'data-action': 'dismiss', title: t('bc.dismiss'), 'aria-label': t('bc.dismiss'),
            on: { click: () => { broadcasts.dismissed.add(id); drawBanners(); } } }, svg(I.x)))));
    }
    banners.replaceChildren(...cards);
  }

  function viewersText(n) {
    return n === 0 ? t('bc.viewers.none') : n === 1 ? t('bc.viewers.one') : t('bc.viewers', { n });
  }

  function drawPresenter(c) {
    panel.hidden = false;
    panel.classList.toggle('live', c.status === 'live');
    if (c.local && !c.preview) c.preview = new MediaStream(c.local.getVideoTracks()); // our screen without our microphone
    setStream(pVideo, c.preview || null);
    pTitle.textContent = c.status === 'live' ? t('bc.presenting', { room: roomName(c.room) }) : t('bc.starting');
    pViewers.textContent = viewersText(c.viewers);
    pViewers.dataset.viewers = String(c.viewers);
    pControls.replaceChildren(...[
      broadcasts.hasMic() ? h(`button.round${broadcasts.muted ? '.off' : ''}`, { type: 'button', 'data-action': 'bc-mute',
        title: broadcasts.muted ? t('call.unmute') : t('call.mute'), 'aria-label': broadcasts.muted ? t('call.unmute') : t('call.mute'),
        on: { click: () => broadcasts.toggleMute() } }, svg(broadcasts.muted ? I.micOff : I.mic)) : null,
      h('button.btn.danger', { type: 'button', 'data-action': 'stop-presenting', on: { click: () => broadcasts.stop() } },
        svg(I.screen), h('span', { text: t('bc.stop') }))].filter(Boolean));
  }

  function drawViewer(c) {
    viewer.hidden = false;
    vEnded.hidden = true;
    const name = store.userName(c.presenter);
    vTitle.textContent = t('bc.from', { name });
    const hasVideo = !!(c.stream && c.stream.getVideoTracks().length);
    setStream(vVideo, hasVideo ? c.stream : null);
    setStream(vAudio, c.stream && c.stream.getAudioTracks().length ? new MediaStream(c.stream.getAudioTracks()) : null);
    vWait.hidden = c.status === 'live' && hasVideo;
    vWait.lastChild.textContent = t('bc.waiting', { name });
    vControls.hidden = false;
  }

  function tick() {
    const c = broadcasts.current;
    if (!c) return;
    const clock = c.startedAt ? fmtDuration(Date.now() - c.startedAt) : '';
    if (c.role === 'presenter') { pClock.textContent = clock; return; }
    vStatus.textContent = clock ? `${roomName(c.room)} · ${clock}` : t('call.connecting');
    vStatus.classList.toggle('live', !!c.startedAt);
    if (c.sfu && c.sfu.pc.connectionState === 'connected') {
      quality(c.sfu.pc).then((q) => {
        vQ.className = `quality q${q.level}`;
        vQ.dataset.path = q.relay ? 'relay' : 'direct';
        const parts = [q.relay ? t('quality.relay') : t('quality.direct')];
        if (q.rtt !== null) parts.push(t('quality.rtt', { ms: q.rtt }));
        parts.push(t('quality.loss', { p: q.loss }));
        vQ.replaceChildren(h('span.bars', { 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), h('span', { text: parts.join(' · ') }));
      }).catch(() => {});
    }
  }

  function draw() {
    drawBanners();
    const c = broadcasts.current;
    panel.hidden = !c || c.role !== 'presenter';
    if (!c) {
      setStream(pVideo, null);
      if (!viewer.classList.contains('ended')) viewer.hidden = true;
      setStream(vVideo, null);
      setStream(vAudio, null);
      clearInterval(timer); timer = null;
      return;
    }
    viewer.classList.remove('ended');
    if (c.role === 'presenter') { viewer.hidden = true; drawPresenter(c); } else drawViewer(c);
    tick();
    if (!timer) timer = setInterval(tick, 1000);
  }

  // The viewer's screen stays with a clear message when the presenter stops.
  function showEnded(name) {
    viewer.hidden = false;
    viewer.classList.add('ended');
    vWait.hidden = true;
    vControls.hidden = true;
    vStatus.textContent = '';
    vStatus.classList.remove('live');
    vQ.replaceChildren();
    const close = h('button.btn.primary', { type: 'button', 'data-action': 'close-broadcast', text: t('close'),
      on: { click: () => { viewer.hidden = true; viewer.classList.remove('ended'); } } });
    vEnded.replaceChildren(svg(I.screen), h('strong', { text: t('bc.ended', { name }) }), close);
    vEnded.hidden = false;
    close.focus();
  }

  broadcasts.addEventListener('change', draw);
  broadcasts.addEventListener('ended', (e) => {
    const { reason, call } = e.detail;
    if (call.role === 'presenter') { if (call.startedAt) toast(`${t('bc.ended.you')} · ${fmtDuration(Date.now() - call.startedAt)}`); return; }
    if (reason !== 'hangup') return; // we stopped watching, or watch on another device
    const name = store.userName(call.presenter);
    if (call.role === 'viewer') showEnded(name);
    else toast(t('bc.ended', { name }));
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && viewer.classList.contains('ended')) { viewer.hidden = true; viewer.classList.remove('ended'); }
  });

  return {
    el,
    present(room) {
      broadcasts.present(room).catch((e) => {
        if (e.name === 'NotAllowedError') return; // the user closed the screen picker
        toast(e.code === 'busy' ? t('call.inprogress') : t('bc.failed', { msg: e.message }), 'error', 6000);
      });
    },
    stop() { broadcasts.stop(); },
  };
}
