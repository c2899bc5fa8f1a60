// peer.js - one RTCPeerConnection to one device in a call, with "perfect
// negotiation": the device already in the call offers (impolite), the one
// that joined answers (polite); later renegotiations (screen sharing, ICE
// restarts) may start on either side.
export class Peer extends EventTarget {
  constructor({ conn, user, polite, rtcConfig, send }) {
    super();
    this.conn = conn;
    this.user = user;
    this.polite = polite;
    this.send = send;
    this.pc = new RTCPeerConnection(rtcConfig);
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.attached = false;
    this.camera = new MediaStream();
    this.screen = null;           // MediaStream of the remote screen share
    this.screenStreamId = null;   // announced by the remote side
    this.remoteState = {};
    this.connectedAt = 0;
    this.pc.onnegotiationneeded = () => this.negotiate();
    this.pc.onicecandidate = (e) => { if (e.candidate) this.send({ candidate: e.candidate.toJSON() }); };
    this.pc.ontrack = (e) => this.onTrack(e);
    this.pc.onconnectionstatechange = () => {
      const s = this.pc.connectionState;
      if (s === 'connected' && !this.connectedAt) this.connectedAt = Date.now();
      clearTimeout(this.restartTimer);
      // The relay went away (a restarted turnd, a network change): the side that
      // offers asks for new candidates without waiting for ICE to give up.
      if (s === 'failed' && !this.polite) this.pc.restartIce();
      if (s === 'disconnected' && !this.polite) {
        this.restartTimer = setTimeout(() => {
          if (['disconnected', 'failed'].includes(this.pc.connectionState)) this.pc.restartIce();
        }, 2500);
      }
      this.emit('state');
    };
  }

  emit(type) { this.dispatchEvent(new Event(type)); }

  async negotiate() {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.send({ sdp: { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp } });
    } catch (e) {
      console.warn('negotiation', e);
    } finally {
      this.makingOffer = false;
    }
  }

  // Local tracks [{role: 'audio'|'video'|'screen', track, stream}]: the
  // impolite side adds them (that makes the offer); the polite side puts them
  // on the transceivers the offer brought, so no second round is needed.
  attach(tracks) {
    this.attached = true;
    this.senders = this.senders || {};
    for (const { role, track, stream } of tracks) {
      const kind = track.kind;
      const free = this.polite && this.pc.getTransceivers().find((t) => t.receiver.track.kind === kind &&
        !t.sender.track && !t.stopped && t.mid !== null && !Object.values(this.senders).includes(t.sender));
      if (free) {
        free.direction = 'sendrecv';
        free.sender.replaceTrack(track);
        if (free.sender.setStreams) free.sender.setStreams(stream);
        this.senders[role] = free.sender;
      } else {
        this.senders[role] = this.pc.addTrack(track, stream);
      }
    }
  }

  // Send track in role (replacing what was sent), add it (renegotiates) or
  // with track null: stop sending (screen: remove it, renegotiates).
  setTrack(role, track, stream) {
    this.senders = this.senders || {};
    const s = this.senders[role];
    if (s && track) { s.replaceTrack(track); return; }
    if (s && !track) {
      if (role === 'screen') { this.pc.removeTrack(s); delete this.senders.screen; } else s.replaceTrack(null);
      return;
    }
    if (!s && track && this.attached) this.senders[role] = this.pc.addTrack(track, stream);
  }

  async onSignal(data, localTracks) {
    if (data.sdp) {
      const desc = data.sdp;
      const collision = desc.type === 'offer' && (this.makingOffer || this.pc.signalingState !== 'stable');
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      await this.pc.setRemoteDescription(desc);
      if (desc.type === 'offer') {
        if (!this.attached) this.attach(localTracks());
        await this.pc.setLocalDescription();
        this.send({ sdp: { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp } });
      }
    } else if (data.candidate) {
      try { await this.pc.addIceCandidate(data.candidate); } catch (e) { if (!this.ignoreOffer) console.warn('candidate', e); }
    } else if (data.state) {
      this.remoteState = data.state;
      this.screenStreamId = data.state.screenStream || null;
      this.sortStreams();
      this.emit('media');
    }
  }

  onTrack(e) {
    const stream = e.streams[0];
    e.track.onunmute = () => this.emit('media');
    e.track.onended = () => { this.sortStreams(); this.emit('media'); };
    if (stream) {
      this.streams = this.streams || new Map();
      this.streams.set(stream.id, stream);
      stream.onremovetrack = () => { this.sortStreams(); this.emit('media'); };
    } else {
      this.camera.addTrack(e.track);
    }
    this.sortStreams();
    this.emit('media');
  }

  // The screen stream is the one the remote side announced; the rest is camera + mic.
  sortStreams() {
    if (!this.streams) return;
    const cam = new MediaStream();
    this.screen = null;
    for (const [id, s] of this.streams) {
      const live = s.getTracks().filter((t) => t.readyState === 'live');
      if (id === this.screenStreamId) { if (live.length) this.screen = s; } else live.forEach((t) => cam.addTrack(t));
    }
    const same = cam.getTracks().length === this.camera.getTracks().length &&
      cam.getTracks().every((t) => this.camera.getTracks().includes(t));
    if (!same) this.camera = cam;
  }

  close() {
    try { this.pc.close(); } catch { /* closed */ }
  }
}
