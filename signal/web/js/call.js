// call.js - call state: ringing, joining, the mesh of peers (up to 4 people)
// or, in calls the server runs through mediad (mode "sfu"), one connection to
// it (sfu.js), local media (microphone, camera, screen) and devices. The UI
// listens to `calls` ('change', 'incoming', 'ended' events).
import * as store from './store.js';
import { Peer } from './peer.js';
import { Sfu, SfuTile } from './sfu.js';
import { noteSpeaker } from './speaker.js';
import { startRing, stopRing } from './sound.js';

export const MAX_PEOPLE = 4;

class Calls extends EventTarget {
  constructor() {
    super();
    this.current = null;       // {id, room, media, caller, status, peers: Map(conn -> Peer), startedAt}
    this.incoming = new Map(); // call id -> {call, from_conn}
    this.local = null;         // MediaStream (mic + camera)
    this.screen = null;        // MediaStream of our screen share
    this.shareMode = localStorage.getItem('lanturn.shareMode') || 'join'; // 'join' or 'replace'
    this.muted = false;
    this.camOff = false;
    this.devices = { audioinput: localStorage.getItem('lanturn.mic') || '', videoinput: localStorage.getItem('lanturn.cam') || '',
      audiooutput: localStorage.getItem('lanturn.spk') || '' };
    this.live = new Set();     // rooms with a call we know of
    // one event at a time: an answer must be applied before the candidates after it
    this.queue = Promise.resolve();
    store.on('call', (m) => { this.queue = this.queue.then(() => this.onEvent(m.event, m.data)).catch((e) => console.error('call event', e)); });
    store.on('synced', () => this.resume().catch(() => {}));
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
  changed() { this.emit('change'); }

  async rtcConfig() {
    const c = await store.request('turn.credentials');
    return { iceServers: c.iceServers, iceTransportPolicy: c.iceTransportPolicy || 'relay' };
  }

  async getMedia(video) {
    const audio = this.devices.audioinput ? { deviceId: { exact: this.devices.audioinput } } : true;
    const cam = this.devices.videoinput ? { deviceId: { exact: this.devices.videoinput } } : {};
    const constraints = { audio: { ...(audio === true ? {} : audio), echoCancellation: true, noiseSuppression: true },
      video: video ? { ...cam, width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } } : false };
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (e) {
      if (e.name === 'OverconstrainedError' || e.name === 'NotFoundError') {
        this.devices.audioinput = this.devices.videoinput = '';
        return navigator.mediaDevices.getUserMedia({ audio: true, video: !!video });
      }
      throw e;
    }
  }

  localTracks() {
    const out = [];
    if (!this.local) return out;
    for (const t of this.local.getAudioTracks()) out.push({ role: 'audio', track: t, stream: this.local });
    const screenReplaces = this.screen && this.shareMode === 'replace';
    const v = screenReplaces ? this.screen.getVideoTracks()[0] : this.local.getVideoTracks()[0];
    if (v && !(this.camOff && !screenReplaces)) out.push({ role: 'video', track: v, stream: this.local });
    if (this.screen && this.shareMode === 'join') out.push({ role: 'screen', track: this.screen.getVideoTracks()[0], stream: this.screen });
    return out;
  }

  myState() {
    return { muted: this.muted, camOff: this.camOff || !(this.local && this.local.getVideoTracks().length),
      screenStream: this.screen ? (this.shareMode === 'replace' ? 'replace' : this.screen.id) : null };
  }

  // --- starting, ringing, answering ----------------------------------------

  // sfu: ask for a call through mediad (rooms too big for a mesh of browsers).
  async start(room, media, { sfu = false } = {}) {
    if (this.current) throw Object.assign(new Error('already in a call'), { code: 'busy' });
    this.current = { id: null, room, media, caller: store.state.me.id, status: 'starting', peers: new Map(), startedAt: 0, members: [] };
    this.changed();
    try {
      this.config = await this.rtcConfig();
      this.local = await this.getMedia(media === 'video');
      this.camOff = media !== 'video';
      this.muted = false;
      const r = await store.request('call.invite', { room, media, ...(sfu ? { sfu } : {}) });
      this.current.id = r.call.id;
      this.current.members = r.call.members;
      this.current.status = 'outgoing';
      this.live.add(room);
      startRing(true);
      this.changed();
      if (r.call.mode === 'sfu') await this.joinSfu(r.call);
    } catch (e) {
      this.teardown();
      throw e;
    }
  }

  async accept(callId, video) {
    const inc = this.incoming.get(callId);
    if (!inc) return;
    if (this.current) await this.hangup();
    this.incoming.delete(callId);
    stopRing();
    const joined = inc.call.members.filter((m) => m.state === 'joined').length;
    // A mesh holds MAX_PEOPLE; an SFU call shows the latest speakers on its pairs and
    // signald refuses a join beyond call_sfu_max itself.
    if (inc.call.mode !== 'sfu' && joined >= MAX_PEOPLE) {
      store.request('call.decline', { call: callId, reason: 'busy' }).catch(() => {});
      this.emit('ended', { reason: 'full' });
      this.changed();
      return;
    }
    this.current = { id: callId, room: inc.call.room, media: inc.call.media, caller: inc.call.caller, status: 'connecting',
      peers: new Map(), startedAt: 0, members: inc.call.members };
    this.changed();
    try {
      this.config = await this.rtcConfig();
      this.local = await this.getMedia(video);
      this.camOff = !video;
      this.muted = false;
      const r = await store.request('call.accept', { call: callId });
      if (this.current && this.current.id === callId) this.current.members = r.call.members;
      this.changed();
      if (r.call.mode === 'sfu') await this.joinSfu(r.call);
    } catch (e) {
      this.teardown();
      throw e;
    }
  }

  // Back into a call that goes on after we left it (the server lets a member accept again).
  async rejoin(callId, video) {
    const r = await store.request('call.list');
    const call = r.calls.find((x) => x.id === callId);
    if (!call) throw Object.assign(new Error('the call has ended'), { code: 'not_found' });
    this.incoming.set(callId, { call });
    return this.accept(callId, video);
  }

  decline(callId, reason = 'declined') {
    this.incoming.delete(callId);
    if (!this.incoming.size) stopRing();
    this.changed();
    return store.request('call.decline', { call: callId, reason }).catch(() => {});
  }

  async hangup() {
    const c = this.current;
    if (!c) return;
    const alone = c.status === 'outgoing' && ![...c.peers.values()].length;
    this.teardown();
    if (c.id) await store.request(alone ? 'call.cancel' : 'call.hangup', { call: c.id }).catch(() => {});
  }

  teardown(reason) {
    const c = this.current;
    stopRing();
    if (c) {
      for (const p of c.peers.values()) p.close();
      if (c.sfu) c.sfu.close();
      if (c.room) this.live.delete(c.room);
    }
    for (const s of [this.local, this.screen]) if (s) s.getTracks().forEach((t) => t.stop());
    this.local = this.screen = null;
    this.current = null;
    clearInterval(this.statsTimer);
    if (c) this.emit('ended', { reason, call: c });
    this.changed();
  }

  // After a reconnect our conn id changed: the old device left its call.
  async resume() {
    if (this.current && this.current.id) {
      const r = await store.request('call.list');
      const still = r.calls.find((x) => x.id === this.current.id);
      if (!still || !still.members.some((m) => m.conn === store.conn.conn)) this.teardown('hangup');
    }
  }

  // --- peers ---------------------------------------------------------------

  peer(conn, user, polite) {
    const c = this.current;
    let p = c.peers.get(conn);
    if (p) return p;
    p = new Peer({ conn, user, polite, rtcConfig: this.config,
      send: (data) => store.request('call.signal', { call: c.id, to: conn, data }).catch((e) => console.warn('signal', e.message)) });
    c.peers.set(conn, p);
    p.addEventListener('state', () => {
      if (p.pc.connectionState === 'connected') {
        if (!c.startedAt) c.startedAt = Date.now();
        c.status = 'active';
        p.send({ state: this.myState() });
      }
      this.changed();
    });
    p.addEventListener('media', () => this.changed());
    return p;
  }

  // An SFU call: our one connection, to mediad; tiles come with call.sfu.pairs.
  async joinSfu(call) {
    const c = this.current;
    c.sfu = new Sfu({ callId: call.id, pairs: call.pairs, rtcConfig: this.config, local: this.local, request: store.request });
    c.sfu.addEventListener('state', () => {
      if (c.sfu.pc.connectionState === 'connected' && !c.startedAt) {
        c.startedAt = Date.now();
        c.status = 'active';
        this.broadcastState();
      }
      this.changed();
    });
    try {
      await c.sfu.join();
    } catch (e) { // mediad refused or is not running: leave the call rather than sit in it without media
      await this.hangup();
      throw e;
    }
  }

  // Who our camera and microphone go to: each peer of a mesh, or mediad.
  senders() {
    const c = this.current;
    return c.sfu ? [c.sfu] : [...c.peers.values()];
  }

  placeTiles(c, pairs) {
    const live = new Set();
    for (const p of pairs) {
      live.add(p.conn);
      let tile = c.peers.get(p.conn);
      if (!tile) {
        tile = new SfuTile(c.sfu, p, (data) => store.request('call.signal', { call: c.id, to: p.conn, data }).catch(() => {}));
        c.peers.set(p.conn, tile);
        tile.send({ state: this.myState() });
      }
      tile.place(p.pair);
    }
    for (const conn of [...c.peers.keys()]) if (!live.has(conn)) c.peers.delete(conn);
    this.changed();
  }

  broadcastState() {
    if (!this.current) return;
    for (const p of this.current.peers.values()) p.send({ state: this.myState() });
    this.changed();
  }

  // --- events --------------------------------------------------------------

  async onEvent(ev, d) {
    const c = this.current;
    const mine = c && c.id && d.call === c.id;
    switch (ev) {
    case 'call.incoming': {
      if (d.call.broadcast) break; // a presentation, not a ringing call: broadcast.js
      this.live.add(d.call.room);
      if (this.incoming.has(d.call.id) || (c && c.id === d.call.id)) break;
      if (c) { store.request('call.decline', { call: d.call.id, reason: 'busy' }).catch(() => {}); break; }
      this.incoming.set(d.call.id, d);
      store.request('call.ringing', { call: d.call.id }).catch(() => {});
      startRing(false);
      this.emit('incoming', d);
      this.changed();
      break;
    }
    case 'call.ringing':
      if (mine && c.status === 'outgoing') { c.ringing = true; this.changed(); }
      break;
    case 'call.joined':
      if (!mine || d.conn === store.conn.conn) break;
      stopRing();
      if (c.status === 'outgoing') c.status = 'connecting';
      if (c.sfu) { this.changed(); break; } // mediad carries it; call.sfu.pairs places it
      if (c.peers.size >= MAX_PEOPLE - 1) break;
      // we were here first: we offer (the tracks we add start the negotiation)
      this.peer(d.conn, d.user, false).attach(this.localTracks());
      this.changed();
      break;
    case 'call.sfu.pairs':
      if (mine && c.sfu) this.placeTiles(c, d.pairs);
      break;
    case 'call.speaker':
      if (mine && c.sfu) { noteSpeaker(d); this.changed(); }
      break;
    case 'call.signal': {
      if (!mine) break;
      if (c.sfu) { await c.peers.get(d.from_conn)?.onSignal(d.data); this.changed(); break; }
      const p = c.peers.get(d.from_conn) || this.peer(d.from_conn, d.from_user, true);
      await p.onSignal(d.data, () => this.localTracks());
      break;
    }
    case 'call.left':
      if (mine) {
        const p = c.peers.get(d.conn);
        if (p) { p.close(); c.peers.delete(d.conn); }
        this.changed();
      }
      break;
    case 'call.declined':
      if (mine) this.emit('declined', d);
      break;
    case 'call.ended':
      this.live.delete((c && c.id === d.call && c.room) || [...this.incoming.values()].find((x) => x.call.id === d.call)?.call.room);
      if (this.incoming.delete(d.call)) { if (!this.incoming.size) stopRing(); this.emit('missed', d); }
      if (mine) this.teardown(d.reason);
      this.changed();
      break;
    default:
    }
  }

  // --- controls ------------------------------------------------------------

  toggleMute() {
    this.muted = !this.muted;
    if (this.local) this.local.getAudioTracks().forEach((t) => { t.enabled = !this.muted; });
    this.broadcastState();
  }

  async toggleCamera() {
    if (!this.current) return;
    const replacing = this.screen && this.shareMode === 'replace';
    if (!this.camOff) {
      this.camOff = true;
      for (const t of this.local.getVideoTracks()) { t.stop(); this.local.removeTrack(t); }
      if (!replacing) for (const p of this.senders()) p.setTrack('video', null);
    } else {
      const s = await navigator.mediaDevices.getUserMedia({ video: this.devices.videoinput ? { deviceId: { exact: this.devices.videoinput } } : true });
      const track = s.getVideoTracks()[0];
      this.local.addTrack(track);
      this.camOff = false;
      if (!replacing) for (const p of this.senders()) p.setTrack('video', track, this.local);
    }
    this.broadcastState();
  }

  async startShare(mode = this.shareMode) {
    if (!this.current || this.screen) return;
    if (this.current.sfu) mode = 'replace'; // one video m-line each: the screen goes instead of the camera
    this.shareMode = mode;
    localStorage.setItem('lanturn.shareMode', mode);
    const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
    const track = s.getVideoTracks()[0];
    if ('contentHint' in track) track.contentHint = 'detail';
    track.addEventListener('ended', () => this.stopShare());
    this.screen = s;
    for (const p of this.senders()) p.setTrack(mode === 'replace' ? 'video' : 'screen', track, s);
    this.broadcastState();
  }

  stopShare() {
    if (!this.screen) return;
    const s = this.screen;
    this.screen = null;
    s.getTracks().forEach((t) => t.stop());
    if (this.current) {
      const cam = this.local && this.local.getVideoTracks()[0];
      for (const p of this.senders()) {
        if (this.shareMode === 'replace') p.setTrack('video', this.camOff ? null : cam || null, this.local);
        else p.setTrack('screen', null);
      }
    }
    this.broadcastState();
  }

  async listDevices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return { audioinput: all.filter((d) => d.kind === 'audioinput'), videoinput: all.filter((d) => d.kind === 'videoinput'),
      audiooutput: all.filter((d) => d.kind === 'audiooutput') };
  }

  async setDevice(kind, id) {
    this.devices[kind] = id;
    localStorage.setItem({ audioinput: 'lanturn.mic', videoinput: 'lanturn.cam', audiooutput: 'lanturn.spk' }[kind], id);
    if (!this.current || !this.local || kind === 'audiooutput') { this.changed(); return; }
    if (kind === 'videoinput' && this.camOff) return;
    const s = await navigator.mediaDevices.getUserMedia(kind === 'audioinput'
      ? { audio: { deviceId: { exact: id } } } : { video: { deviceId: { exact: id } } });
    const track = s.getTracks()[0];
    const old = kind === 'audioinput' ? this.local.getAudioTracks()[0] : this.local.getVideoTracks()[0];
    if (old) { old.stop(); this.local.removeTrack(old); }
    this.local.addTrack(track);
    if (kind === 'audioinput') track.enabled = !this.muted;
    const role = kind === 'audioinput' ? 'audio' : 'video';
    if (!(role === 'video' && this.screen && this.shareMode === 'replace')) {
      for (const p of this.senders()) p.setTrack(role, track, this.local);
    }
    this.changed();
  }
}

export const calls = new Calls();
