// views/callui.js - incoming call cards and the call screen: video tiles,
// screen share stage, self view, controls, devices, timer, quality.
import { h, svg, avatar, clear, toast, fmtDuration } from '../dom.js';
import { I } from '../icons.js';
import { t } from '../i18n.js';
import * as store from '../store.js';
import { calls, MAX_PEOPLE } from '../call.js';
import { quality } from '../stats.js';
import { markSpeaker } from '../speaker.js';

function setStream(el, stream) {
  if (el.srcObject !== stream) el.srcObject = stream;
  if (stream && el.paused) el.play().catch(() => {});
}

export function createCallUI({ onRoomsWithCalls }) {
  const rings = h('div.ring-stack', { 'aria-live': 'assertive' });
  const screen = h('div.call-screen', { hidden: true, role: 'dialog', 'aria-modal': 'false', 'aria-label': t('call.video') });
  const el = h('div.calls', rings, screen);
  const tiles = new Map(); // conn -> {el, video, audio, name, q}
  let statsTimer = null, clock = null, qualityText = null, lastQ = new Map();

  // --- incoming ------------------------------------------------------------
  function drawRings() {
    clear(rings);
    for (const [id, inc] of calls.incoming) {
      const caller = store.state.users.get(inc.call.caller) || { id: inc.call.caller, name: '?' };
      const room = store.state.rooms.get(inc.call.room);
      const accept = (video) => calls.accept(id, video).catch((e) => toast(t('call.nomedia', { msg: e.message }), 'error', 6000));
      rings.append(h('div.ring-card', { role: 'alertdialog', 'aria-label': t('call.from', { name: caller.display_name || caller.name }) },
        h('div.ring-pulse', avatar(caller, 'md')),
        h('div.ring-text', h('strong', { text: t('call.from', { name: caller.display_name || caller.name }) }),
          h('small', { text: `${t(inc.call.media === 'video' ? 'call.incoming.video' : 'call.incoming.audio')}${room && room.kind === 'group' ? ' · #' + room.name : ''}` })),
        h('div.ring-actions',
          h('button.round.red', { type: 'button', 'data-action': 'decline', title: t('call.decline'), 'aria-label': t('call.decline'), on: { click: () => calls.decline(id) } }, svg(I.hangup)),
          h('button.round.green', { type: 'button', 'data-action': 'accept-audio', title: t('call.accept.audio'), 'aria-label': t('call.accept.audio'), on: { click: () => accept(false) } }, svg(I.phone)),
          h('button.round.green', { type: 'button', 'data-action': 'accept-video', title: t('call.accept.video'), 'aria-label': t('call.accept.video'), on: { click: () => accept(true) } }, svg(I.video)))));
    }
    const first = rings.querySelector('[data-action=accept-video]');
    if (first && !rings.contains(document.activeElement)) first.focus();
  }

  // --- call screen ---------------------------------------------------------
  const title = h('h2.call-title');
  const status = h('span.call-status');
  const qBox = h('span.quality', { role: 'status' });
  const stage = h('div.stage', { hidden: true });
  const stageVideo = h('video', { autoplay: true, playsinline: true, muted: true });
  const stageLabel = h('span.stage-label');
  stage.append(stageVideo, stageLabel);
  const grid = h('div.tiles');
  const selfVideo = h('video.self-video', { autoplay: true, playsinline: true, muted: true });
  const selfAvatar = h('div.self-avatar');
  const selfTile = h('div.self-view', selfVideo, selfAvatar, h('span.tile-name', { text: t('call.you') }));
  const btn = (action, icon, label, fn, cls = '') => h(`button.ctl${cls}`, { type: 'button', 'data-action': action, title: label, 'aria-label': label, on: { click: fn } }, svg(icon));
  const controls = h('div.controls');
  const devicesPop = h('div.devices-pop', { hidden: true });
  screen.append(
    h('header.call-top', h('div.call-heading', title, h('div.call-sub', status, qBox)),
      h('button.ctl.ghost', { type: 'button', 'data-action': 'minimize', title: t('back'), 'aria-label': t('back'),
        on: { click: () => screen.classList.toggle('mini') } }, svg(I.expand))),
    h('div.call-body', stage, grid, selfTile), devicesPop, controls);

  function drawControls() {
    const c = calls.current;
    const hasVideo = calls.local && calls.local.getVideoTracks().length && !calls.camOff;
    controls.replaceChildren(
      btn('mute', calls.muted ? I.micOff : I.mic, calls.muted ? t('call.unmute') : t('call.mute'), () => { calls.toggleMute(); }, calls.muted ? '.off' : ''),
      btn('camera', hasVideo ? I.video : I.videoOff, hasVideo ? t('call.cam.off') : t('call.cam.on'),
        () => calls.toggleCamera().catch((e) => toast(t('call.nomedia', { msg: e.message }), 'error')), hasVideo ? '' : '.off'),
      btn('share', I.screen, calls.screen ? t('call.share.stop') : t('call.share'),
        () => (calls.screen ? calls.stopShare() : calls.startShare().catch((e) => { if (e.name !== 'NotAllowedError') toast(e.message, 'error'); })), calls.screen ? '.on' : ''),
      btn('devices', I.gear, t('call.devices'), toggleDevices),
      btn('hangup', I.hangup, t('call.hangup'), () => calls.hangup(), '.red'));
    if (c) controls.setAttribute('aria-label', t('call.inprogress'));
  }

  async function toggleDevices() {
    if (!devicesPop.hidden) { devicesPop.hidden = true; return; }
    const list = await calls.listDevices();
    const sel = (kind, label) => {
      const opts = list[kind];
      if (!opts.length) return null;
      return h('label.field', h('span', { text: label }), h('select', { 'data-kind': kind, on: { change: (e) => calls.setDevice(kind, e.target.value).catch((x) => toast(x.message, 'error')) } },
        opts.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === calls.devices[kind], text: d.label || `${label} ${i + 1}` }))));
    };
    const mode = h('input', { type: 'checkbox', id: 'share-mode', checked: calls.shareMode === 'replace',
      on: { change: (e) => { calls.shareMode = e.target.checked ? 'replace' : 'join'; localStorage.setItem('lanturn.shareMode', calls.shareMode); } } });
    devicesPop.replaceChildren(...[sel('audioinput', t('call.mic')), sel('videoinput', t('call.camera')),
      'setSinkId' in HTMLMediaElement.prototype ? sel('audiooutput', t('call.speaker')) : null,
      h('label.check-row', mode, h('span', { text: t('call.share.mode') }))].filter(Boolean));
    devicesPop.hidden = false;
    const first = devicesPop.querySelector('select, input');
    if (first) first.focus();
  }

  function tileFor(p) {
    let tl = tiles.get(p.conn);
    if (tl) return tl;
    const user = store.state.users.get(p.user) || { id: p.user, name: `#${p.user}` };
    const video = h('video', { autoplay: true, playsinline: true, muted: true });
    const audio = h('audio', { autoplay: true });
    const q = h('span.tile-q');
    const mic = h('span.tile-mic');
    tl = { video, audio, q, mic, el: h('div.tile', { 'data-user': user.name },
      h('div.tile-avatar', avatar(user, 'lg')), video, audio,
      h('span.tile-name', mic, h('span', { text: user.display_name || user.name }), q)) };
    tiles.set(p.conn, tl);
    return tl;
  }

  function draw() {
    const c = calls.current;
    onRoomsWithCalls([...calls.live]);
    drawRings();
    if (!c) {
      screen.hidden = true;
      screen.classList.remove('mini');
      devicesPop.hidden = true;
      for (const tl of tiles.values()) { tl.video.srcObject = null; tl.audio.srcObject = null; }
      tiles.clear();
      clear(grid);
      clearInterval(statsTimer); statsTimer = null;
      clearInterval(clock); clock = null;
      lastQ.clear();
      return;
    }
    screen.hidden = false;
    const room = store.state.rooms.get(c.room);
    title.textContent = room ? store.roomTitle(room) : '';
    // remote tiles
    let presenter = null;
    const live = new Set();
    for (const p of c.peers.values()) {
      live.add(p.conn);
      const tl = tileFor(p);
      const rs = p.remoteState || {};
      const replaceShare = rs.screenStream === 'replace';
      const cam = p.camera;
      const camVideo = cam.getVideoTracks().some((x) => x.readyState === 'live') && !rs.camOff && !replaceShare;
      setStream(tl.video, camVideo ? cam : null);
      tl.el.classList.toggle('no-video', !camVideo);
      setStream(tl.audio, cam.getAudioTracks().length ? new MediaStream(cam.getAudioTracks()) : null);
      if (calls.devices.audiooutput && tl.audio.setSinkId && tl.audio.sinkId !== calls.devices.audiooutput) tl.audio.setSinkId(calls.devices.audiooutput).catch(() => {});
      tl.mic.replaceChildren(...(rs.muted ? [svg(I.micOff)] : []));
      tl.el.classList.toggle('connecting', p.pc.connectionState !== 'connected');
      if (p.screen) presenter = { stream: p.screen, user: p.user };
      else if (replaceShare && cam.getVideoTracks().length) presenter = { stream: cam, user: p.user };
      if (!grid.contains(tl.el)) grid.append(tl.el);
    }
    for (const [conn, tl] of tiles) if (!live.has(conn)) { tl.el.remove(); tiles.delete(conn); }
    grid.dataset.count = String(c.peers.size);
    markSpeaker(grid, c.id, tiles);
    // stage: a remote presenter, else our own share
    if (!presenter && calls.screen) presenter = { stream: calls.screen, user: store.state.me.id, self: true };
    stage.hidden = !presenter;
    screen.classList.toggle('presenting', !!presenter);
    if (presenter) {
      setStream(stageVideo, presenter.stream);
      stageLabel.textContent = t('call.sharing', { name: presenter.self ? t('call.you') : store.userName(presenter.user) });
    } else setStream(stageVideo, null);
    // self view
    const myVideo = calls.local && calls.local.getVideoTracks().length && !calls.camOff;
    setStream(selfVideo, myVideo ? calls.local : null);
    selfTile.classList.toggle('no-video', !myVideo);
    selfAvatar.replaceChildren(avatar(store.state.me, 'md'));
    // status line
    drawStatus();
    drawControls();
    if (!clock) clock = setInterval(drawStatus, 1000);
    if (!statsTimer) statsTimer = setInterval(updateQuality, 2000);
  }

  function drawStatus() {
    const c = calls.current;
    if (!c) return;
    status.textContent = c.startedAt ? fmtDuration(Date.now() - c.startedAt)
      : c.status === 'outgoing' ? (c.ringing ? t('call.ringing') : t('call.calling')) : t('call.connecting');
    status.classList.toggle('live', !!c.startedAt);
  }

  async function updateQuality() {
    const c = calls.current;
    if (!c) return;
    let worst = null;
    for (const p of c.peers.values()) {
      if (p.pc.connectionState !== 'connected') continue;
      try {
        const q = await quality(p.pc);
        lastQ.set(p.conn, q);
        const tl = tiles.get(p.conn);
        if (tl) { tl.q.className = `tile-q q${q.level}`; tl.q.title = describe(q); }
        if (!worst || q.level < worst.level || (q.level === worst.level && (q.rtt || 0) > (worst.rtt || 0))) worst = q;
      } catch { /* closed */ }
    }
    qualityText = worst ? describe(worst) : '';
    qBox.replaceChildren();
    if (worst) {
      qBox.className = `quality q${worst.level}`;
      qBox.dataset.path = worst.relay ? 'relay' : 'direct';
      qBox.title = t(worst.level >= 3 ? 'quality.good' : worst.level === 2 ? 'quality.fair' : 'quality.poor');
      qBox.append(h('span.bars', { 'aria-hidden': 'true' }, h('i'), h('i'), h('i')), h('span', { text: qualityText }));
    }
  }

  function describe(q) {
    const parts = [q.relay ? t('quality.relay') : t('quality.direct')];
    if (q.rtt !== null) parts.push(t('quality.rtt', { ms: q.rtt }));
    parts.push(t('quality.loss', { p: q.loss }));
    return parts.join(' · ');
  }

  calls.addEventListener('change', draw);
  calls.addEventListener('ended', (e) => {
    const { reason, call } = e.detail;
    if (reason === 'full') { toast(t('call.full'), 'error'); return; }
    if (reason && reason !== 'hangup') toast(t(`call.reason.${reason}`, { name: '' }));
    else if (call && call.startedAt) toast(`${t('call.ended')} · ${fmtDuration(Date.now() - call.startedAt)}`);
  });
  calls.addEventListener('declined', (e) => toast(t('call.reason.declined', { name: store.userName(e.detail.user) })));
  screen.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !devicesPop.hidden) { devicesPop.hidden = true; e.stopPropagation(); } });

  return {
    el,
    start(room, media) {
      const r = store.state.rooms.get(room);
      // a mesh of browsers holds MAX_PEOPLE; a bigger room needs the server's SFU (unavailable without mediad)
      const sfu = !!(r && r.members.length > MAX_PEOPLE);
      calls.start(room, media, { sfu }).catch((e) => toast(e.code === 'busy' ? t('call.inprogress')
        : sfu && e.code === 'unavailable' ? t('call.full') : t('call.nomedia', { msg: e.message }), 'error', 6000));
    },
    hangupAll() { calls.hangup(); },
  };
}
