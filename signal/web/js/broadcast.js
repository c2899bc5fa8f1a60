// broadcast.js - presenting a screen to a whole room through mediad, and
// watching such a presentation (a call with "broadcast": true, see
// docs/PROTOCOL.md). The presenter sends its screen and microphone on one
// send-only pair; each viewer receives them on one receive-only pair. Viewers
// hear nothing of each other: only the presenter is told of joins and leaves,
// with the number watching. The UI listens to `broadcasts` ('change',
// 'incoming', 'ended' events).
import * as store from './store.js';
import { calls } from './call.js';
import { Sfu } from './sfu.js';

class Broadcasts extends EventTarget {
  constructor() {
    super();
    // {id, room, role: 'presenter'|'viewer', presenter (user), status: 'starting'|'connecting'|'live',
    //  viewers (presenter only), sfu, local (presenter's screen + mic), stream (viewer's), startedAt}
    this.current = null;
    this.running = new Map(); // call id -> call object: broadcasts we could watch
    this.dismissed = new Set(); // call ids whose banner the user closed (a pill stays)
    this.muted = false;
    this.queue = Promise.resolve();
    store.on('call', (m) => { this.queue = this.queue.then(() => this.onEvent(m.event, m.data)).catch((e) => console.error('broadcast event', e)); });
    store.on('synced', () => { this.queue = this.queue.then(() => this.refresh()).catch(() => {}); });
  }

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
  changed() { this.emit('change'); }

  // The broadcast running in a room, if we know of one.
  inRoom(room) { return [...this.running.values()].find((k) => k.room === room) || null; }

  busy() {
    if (this.current || calls.current) throw Object.assign(new Error('already in a call'), { code: 'busy' });
  }

  // Share a screen (and the microphone, when there is one) with everyone in the room.
  async present(room) {
    this.busy();
    this.current = { id: null, room, role: 'presenter', presenter: store.state.me.id, status: 'starting', viewers: 0, startedAt: 0 };
    this.changed();
    try {
      const screen = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
      const video = screen.getVideoTracks()[0];
      if ('contentHint' in video) video.contentHint = 'detail';
      video.addEventListener('ended', () => this.stop());
      this.current.local = new MediaStream([video]);
      try {
        const mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
        this.current.local.addTrack(mic.getAudioTracks()[0]);
      } catch { /* presenting without a microphone is fine */ }
      this.muted = false;
      const config = await calls.rtcConfig();
      const r = await store.request('call.invite', { room, media: 'video', broadcast: true });
      if (!this.current) { store.request('call.hangup', { call: r.call.id }).catch(() => {}); return; }
      this.current.id = r.call.id;
      await this.connect(config, 'sendonly');
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  // Watch a running broadcast.
  async watch(id) {
    const call = this.running.get(id);
    if (!call) throw Object.assign(new Error('the presentation has ended'), { code: 'not_found' });
    this.busy();
    this.dismissed.add(id);
    this.current = { id, room: call.room, role: 'viewer', presenter: call.caller, status: 'connecting', stream: null, startedAt: 0 };
    this.changed();
    try {
      const config = await calls.rtcConfig();
      await store.request('call.accept', { call: id });
      await this.connect(config, 'recvonly');
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  async connect(config, direction) {
    const c = this.current;
    c.status = 'connecting';
    c.sfu = new Sfu({ callId: c.id, pairs: 1, rtcConfig: config, local: c.local || null, request: store.request, direction });
    c.sfu.addEventListener('state', () => {
      if (c.sfu.pc.connectionState === 'connected' && !c.startedAt) { c.startedAt = Date.now(); c.status = 'live'; }
      this.changed();
    });
    this.changed();
    await c.sfu.join();
  }

  // The presenter ends the broadcast for everyone; a viewer stops watching (it goes on).
  async stop() {
    const c = this.current;
    if (!c) return;
    this.teardown();
    if (c.id) await store.request('call.hangup', { call: c.id }).catch(() => {});
  }

  teardown(reason) {
    const c = this.current;
    if (!c) return;
    if (c.sfu) c.sfu.close();
    if (c.local) c.local.getTracks().forEach((t) => t.stop());
    this.current = null;
    this.emit('ended', { reason, call: c });
    this.changed();
  }

  toggleMute() {
    const c = this.current;
    if (!c || !c.local) return;
    this.muted = !this.muted;
    c.local.getAudioTracks().forEach((t) => { t.enabled = !this.muted; });
    this.changed();
  }

  hasMic() { return !!(this.current && this.current.local && this.current.local.getAudioTracks().length); }

  // After (re)connecting: which broadcasts run, and whether ours survived (our device changed).
  async refresh() {
    const r = await store.request('call.list');
    const me = store.state.me.id;
    this.running.clear();
    for (const k of r.calls) {
      if (!k.broadcast || k.caller === me) continue;
      // watched on another of our devices: not offered here (the server would refuse)
      if (k.members.some((m) => m.user === me && m.state === 'joined' && m.conn !== store.conn.conn)) continue;
      this.running.set(k.id, k);
    }
    const c = this.current;
    if (c && c.id) {
      const still = r.calls.find((k) => k.id === c.id);
      if (!still) this.teardown('hangup');
      else if (!still.members.some((m) => m.conn === store.conn.conn)) this.teardown('reconnected'); // it runs on: watch again
    }
    this.changed();
  }

  onEvent(ev, d) {
    const c = this.current;
    const mine = c && c.id && d.call === c.id;
    switch (ev) {
    case 'call.incoming':
      if (!d.call.broadcast || d.call.caller === store.state.me.id) break;
      if (!this.running.has(d.call.id)) this.emit('incoming', d.call);
      this.running.set(d.call.id, d.call);
      this.changed();
      break;
    case 'call.joined':
    case 'call.left':
      if (mine && c.role === 'presenter' && typeof d.viewers === 'number') { c.viewers = d.viewers; this.changed(); }
      break;
    case 'call.sfu.pairs':
      if (mine && c.role === 'viewer') {
        c.stream = d.pairs.some((p) => p.pair === 0) ? c.sfu.stream(0) : null;
        this.changed();
      }
      break;
    case 'call.ended': {
      const known = this.running.get(d.call);
      // our user watches on another device: that one has it; the presentation still runs
      if (d.reason === 'answered_elsewhere' && !mine) break;
      this.running.delete(d.call);
      this.dismissed.delete(d.call);
      if (mine) this.teardown(d.reason);
      else if (known) this.emit('ended', { reason: d.reason, call: { room: known.room, presenter: known.caller, role: 'none' } });
      this.changed();
      break;
    }
    default:
    }
  }
}

export const broadcasts = new Broadcasts();
