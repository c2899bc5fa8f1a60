// ws.js - the WebSocket protocol: hello, request/reply, events, reconnect
// with `since` = the last durable seq seen (kept per tab in sessionStorage).
const SEQ_KEY = 'lanturn.seq';

export class Conn extends EventTarget {
  constructor(getToken) {
    super();
    this.getToken = getToken;
    this.nextId = 1;
    this.pending = new Map();
    this.ws = null;
    this.state = 'idle'; // idle | connecting | open | closed
    this.attempt = 0;
    this.stopped = false;
    this.conn = null;
    this.user = null;
    this.lastSeq = Number(sessionStorage.getItem(SEQ_KEY) || 0) || 0;
  }

  start() { this.stopped = false; this.connect(); }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    sessionStorage.removeItem(SEQ_KEY);
  }

  setState(s, detail = {}) {
    this.state = s;
    this.dispatchEvent(new CustomEvent('state', { detail: { state: s, ...detail } }));
  }

  connect() {
    clearTimeout(this.retryTimer);
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
    this.setState('connecting', { attempt: this.attempt });
    let ws;
    try { ws = new WebSocket(url, 'lanturn.v1'); } catch { this.retry(); return; }
    this.ws = ws;
    ws.onopen = () => this.hello();
    ws.onmessage = (e) => { let m; try { m = JSON.parse(e.data); } catch { return; } this.onFrame(m); };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const [, p] of this.pending) p.reject(Object.assign(new Error('connection closed'), { code: 'closed' }));
      this.pending.clear();
      if (e.code === 4001) { this.setState('closed'); this.dispatchEvent(new Event('unauthorized')); return; }
      if (!this.stopped) this.retry();
    };
  }

  retry() {
    this.attempt++;
    const delay = Math.min(30000, 500 * 2 ** Math.min(this.attempt, 6)) * (0.75 + Math.random() * 0.5);
    this.setState('closed', { retryIn: delay });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  resume() { this.stopped = false; this.retry(); }

  retryNow() { if (this.state === 'closed' && !this.stopped) this.connect(); }

  async hello() {
    // batch: several queued events may come in one {"type":"batch"} message
    const fields = { token: this.getToken(), away: document.hidden, batch: true };
    if (this.lastSeq > 0) fields.since = this.lastSeq;
    try {
      const r = await this.request('hello', fields);
      this.conn = r.conn;
      this.user = r.user;
      const reconnect = this.everOpen;
      this.everOpen = true;
      this.attempt = 0;
      if (r.resync) this.setSeq(r.last_seq);
      else if (!this.lastSeq) this.setSeq(r.last_seq);
      this.setState('open', { reconnect, resync: !!r.resync });
    } catch (e) {
      if (e.code === 'unauthorized') { this.stopped = true; this.dispatchEvent(new Event('unauthorized')); }
      if (this.ws) this.ws.close();
    }
  }

  setSeq(seq) {
    this.lastSeq = seq;
    sessionStorage.setItem(SEQ_KEY, String(seq));
  }

  onFrame(m) {
    if (m.type === 'batch') {
      for (const e of Array.isArray(m.events) ? m.events : []) this.onFrame(e);
      return;
    }
    if (m.type === 'reply' || (m.type === 'error' && m.id !== undefined)) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.type === 'reply') p.resolve(m.result);
      else p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      return;
    }
    if (m.type !== 'event') return;
    if (m.seq !== undefined) {
      if (m.seq <= this.lastSeq) return; // seen already
      this.setSeq(m.seq);
    }
    if (m.event === 'resync') { this.dispatchEvent(new Event('resync')); return; }
    this.dispatchEvent(new CustomEvent('event', { detail: m }));
  }

  request(type, fields = {}, timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject(Object.assign(new Error('not connected'), { code: 'closed' }));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) reject(Object.assign(new Error(`no reply to ${type}`), { code: 'timeout' }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ id, type, ...fields }));
    });
  }

  get open() { return this.state === 'open'; }
}
