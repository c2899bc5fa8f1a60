// sfu.js - a call through mediad (mode "sfu", see docs/PROTOCOL.md): one
// RTCPeerConnection to mediad, offered through signald. The first audio and
// video transceivers send our microphone and camera and receive like the
// others; the rest only receive. signald says which device's streams each
// pair carries (call.sfu.pairs); nothing is renegotiated when people come
// and go. Each other device is shown through an SfuTile, which looks to the
// call UI like a mesh Peer.
export class Sfu extends EventTarget {
  // direction: the first pair's; a broadcast's presenter only sends and its viewers only receive.
  constructor({ callId, pairs, rtcConfig, local, request, direction = 'sendrecv' }) {
    super();
    this.callId = callId;
    this.request = request;
    this.pc = new RTCPeerConnection(rtcConfig);
    this.pairs = [];
    for (let j = 0; j < pairs; j++) {
      const pair = {};
      for (const kind of ['audio', 'video']) {
        const track = j === 0 && local ? local.getTracks().find((t) => t.kind === kind) : null;
        pair[kind] = this.pc.addTransceiver(track || kind, j === 0
          ? { direction, streams: local ? [local] : [] } : { direction: 'recvonly' });
      }
      this.pairs.push(pair);
    }
    this.pc.onconnectionstatechange = () => this.dispatchEvent(new Event('state'));
  }

  // Offer with every candidate gathered (mediad takes the offer whole), then apply its answer.
  async join() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise((resolve) => {
        const done = () => { if (this.pc.iceGatheringState === 'complete') resolve(); };
        this.pc.addEventListener('icegatheringstatechange', done);
        setTimeout(resolve, 5000); // whatever was gathered by then
      });
    }
    const r = await this.request('call.sfu.offer', { call: this.callId, sdp: this.pc.localDescription.sdp });
    await this.pc.setRemoteDescription({ type: 'answer', sdp: r.sdp });
  }

  // What pair j receives, as one stream (a new object when its device changes).
  stream(j) {
    const p = this.pairs[j];
    return new MediaStream([p.audio.receiver.track, p.video.receiver.track]);
  }

  // Our camera or microphone changed (role 'audio' or 'video'; a screen shared
  // "instead of the camera" comes as 'video'). A screen beside the camera
  // would need another m-line: not in SFU calls.
  setTrack(role, track) {
    if (role === 'audio' || role === 'video') this.pairs[0][role].sender.replaceTrack(track || null);
  }

  close() {
    try { this.pc.close(); } catch { /* closed */ }
  }
}

// One other device of an SFU call, shaped like a Peer for call.js and the UI.
export class SfuTile extends EventTarget {
  constructor(sfu, { conn, user, pair }, send) {
    super();
    this.sfu = sfu;
    this.conn = conn;
    this.user = user;
    this.pc = sfu.pc;
    this.screen = null;
    this.remoteState = {};
    this.send = send; // our state (muted, camera off) goes device to device through signald
    this.place(pair);
  }

  place(pair) {
    if (this.pair === pair) return;
    this.pair = pair;
    this.camera = this.sfu.stream(pair);
  }

  setTrack(role, track) { this.sfu.setTrack(role, track); }

  async onSignal(data) {
    if (data.state) this.remoteState = data.state;
  }

  close() { /* the connection is the call's, closed with it */ }
}
