// store.js - client state fed by the WebSocket: users, presence, rooms,
// messages, typing and read receipts. Views subscribe with store.on(topic, fn).
import { Conn } from './ws.js';
import * as api from './api.js';

const listeners = new Map();
export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(fn);
  return () => listeners.get(topic).delete(fn);
}
export function emit(topic, data) {
  for (const fn of listeners.get(topic) || []) {
    try { fn(data); } catch (e) { console.error(topic, e); }
  }
}

export const state = {
  me: null,
  users: new Map(),
  presence: new Map(),
  rooms: new Map(),
  msgs: new Map(),     // room -> {list (oldest first), byId, more, loaded}
  typing: new Map(),   // room -> Map(user -> expiry ms)
  reads: new Map(),    // room -> Map(user -> message id)
  activity: new Map(), // room -> last message time seen
  current: null,
  connState: 'idle',
};

export let conn = null;
export const request = (type, fields, timeout) => conn.request(type, fields, timeout);

export function userName(id) {
  const u = state.users.get(id);
  return u ? (u.display_name || u.name) : `#${id}`;
}

export function roomTitle(room) {
  if (!room) return '';
  if (room.kind === 'direct') {
    const other = room.members.find((m) => m.user !== state.me.id);
    return other ? userName(other.user) : userName(state.me.id);
  }
  return room.name;
}

export function directPeer(room) {
  if (!room || room.kind !== 'direct') return null;
  const other = room.members.find((m) => m.user !== state.me.id);
  return other ? other.user : null;
}

export function sortedRooms() {
  const act = (r) => state.activity.get(r.id) || r.created_at || 0;
  return [...state.rooms.values()].filter((r) => !r.archived || r.id === state.current)
    .sort((a, b) => act(b) - act(a));
}

export function start(me) {
  state.me = me;
  state.users.set(me.id, me);
  conn = new Conn(api.token);
  conn.addEventListener('state', (e) => {
    state.connState = e.detail.state;
    emit('conn', e.detail);
    if (e.detail.state === 'open') onOpen(e.detail).catch((err) => console.error('sync', err));
  });
  conn.addEventListener('event', (e) => onEvent(e.detail));
  conn.addEventListener('resync', () => onOpen({ resync: true }).catch(console.error));
  conn.addEventListener('unauthorized', () => emit('unauthorized'));
  conn.start();
}

export function stop() {
  if (conn) conn.stop();
  conn = null;
  for (const k of ['users', 'presence', 'rooms', 'msgs', 'typing', 'reads', 'activity']) state[k].clear();
  state.current = null;
}

async function loadUsers() {
  let after;
  for (let i = 0; i < 50; i++) {
    const r = await request('user.list', { limit: 1000, ...(after ? { after } : {}) });
    for (const u of r.users) state.users.set(u.id, u);
    if (!r.more || !r.users.length) break;
    after = r.users[r.users.length - 1].id;
  }
}

async function onOpen({ resync }) {
  subscribed = '';
  const [, rooms, pres] = await Promise.all([loadUsers(), request('room.list'), request('presence.list')]);
  const me = state.users.get(state.me.id);
  if (me) state.me = me;
  state.rooms.clear();
  for (const r of rooms.rooms) state.rooms.set(r.id, r);
  state.presence.clear();
  for (const p of pres.online) state.presence.set(p.user, p.status);
  await subscribePresence();
  state.typing.clear();
  if (resync) {
    for (const k of [...state.msgs.keys()]) if (k !== state.current) state.msgs.delete(k);
    if (state.current) { state.msgs.delete(state.current); await loadHistory(state.current); }
  } else if (state.current && state.msgs.has(state.current)) {
    await refreshLatest(state.current);
  }
  emit('users'); emit('presence'); emit('rooms');
  emit('synced', { resync });
  if (state.current && !state.rooms.has(state.current)) select(null);
  else if (state.current) emit('messages', { room: state.current, reset: true });
}

// --- messages -------------------------------------------------------------

function bucket(room) {
  if (!state.msgs.has(room)) state.msgs.set(room, { list: [], byId: new Map(), more: true, loaded: false });
  return state.msgs.get(room);
}

function put(b, m) {
  const old = b.byId.get(m.id);
  b.byId.set(m.id, m);
  if (old) { b.list[b.list.indexOf(old)] = m; return false; }
  // keep ascending by id; new messages are almost always last
  let i = b.list.length;
  while (i > 0 && (typeof b.list[i - 1].id !== 'number' || b.list[i - 1].id > m.id)) i--;
  b.list.splice(i, 0, m);
  return true;
}

export async function loadHistory(room, limit = 50) {
  const b = bucket(room);
  if (b.loading) return b.loading;
  const oldest = b.list.find((m) => typeof m.id === 'number');
  const fields = { room, limit, ...(oldest && b.loaded ? { before: oldest.id } : {}) };
  b.loading = request('message.history', fields).then((r) => {
    for (const m of r.messages) put(b, m);
    b.more = r.more;
    b.loaded = true;
    const newest = b.list.filter((m) => typeof m.id === 'number').pop();
    if (newest) noteActivity(room, newest.created_at);
    emit('messages', { room, older: !!fields.before, count: r.messages.length });
  }).finally(() => { b.loading = null; });
  return b.loading;
}

// After a reconnect: fetch the newest page and merge (covers edits too).
async function refreshLatest(room) {
  const b = bucket(room);
  const r = await request('message.history', { room, limit: 50 });
  for (const m of r.messages) put(b, m);
}

// Load pages until message id is present (for jumping to search hits).
export async function loadUntil(room, id) {
  const b = bucket(room);
  if (!b.loaded) await loadHistory(room);
  for (let i = 0; i < 20 && !b.byId.has(id) && b.more; i++) await loadHistory(room, 200);
  return b.byId.has(id);
}

function noteActivity(room, t) {
  if ((state.activity.get(room) || 0) < t) state.activity.set(room, t);
}

let clientSeq = 0;
export async function send(room, body, { reply_to, files, mentions } = {}) {
  const client_id = `c${Date.now().toString(36)}${(clientSeq++).toString(36)}`;
  const b = bucket(room);
  const pending = { id: client_id, client_id, room, sender: state.me.id, body, created_at: Date.now(),
    deleted: false, mentions: mentions || [], reactions: [], reply_to, files, pending: true };
  b.list.push(pending);
  b.byId.set(client_id, pending);
  emit('messages', { room, sent: true });
  try {
    const r = await request('message.send', { room, body, client_id,
      ...(reply_to ? { reply_to } : {}), ...(files && files.length ? { files: files.map((f) => f.id) } : {}),
      ...(mentions && mentions.length ? { mentions } : {}) });
    settle(b, client_id, r.message);
    emit('messages', { room });
    return r.message;
  } catch (e) {
    pending.pending = false;
    pending.failed = e.message;
    emit('messages', { room });
    throw e;
  }
}

function settle(b, clientId, msg) {
  const p = b.byId.get(clientId);
  if (p) { b.byId.delete(clientId); b.list.splice(b.list.indexOf(p), 1); }
  put(b, msg);
}

export function discardFailed(room, clientId) {
  const b = bucket(room);
  const p = b.byId.get(clientId);
  if (p) { b.byId.delete(clientId); b.list.splice(b.list.indexOf(p), 1); emit('messages', { room }); }
}

export const edit = (message, body, mentions) => request('message.edit', { message, body, ...(mentions ? { mentions } : {}) });
export const remove = (message) => request('message.delete', { message });

export async function toggleReaction(msg, emoji) {
  const r = (msg.reactions || []).find((x) => x.emoji === emoji);
  const mine = r && r.users.includes(state.me.id);
  try { await request(mine ? 'reaction.remove' : 'reaction.add', { message: msg.id, emoji }); } catch (e) {
    if (e.code !== 'conflict' && e.code !== 'not_found') throw e;
  }
}

let readTimer = null;
export function markRead(room) {
  const b = state.msgs.get(room);
  const r = state.rooms.get(room);
  if (!b || !r) return;
  const newest = [...b.list].reverse().find((m) => typeof m.id === 'number');
  if (!newest) return;
  if (r.unread || r.unread_mentions) { r.unread = 0; r.unread_mentions = 0; emit('rooms'); }
  if (newest.id <= (r.last_read || 0)) return;
  r.last_read = newest.id;
  clearTimeout(readTimer);
  readTimer = setTimeout(() => request('read.mark', { room, message: newest.id }).catch(() => {}), 150);
}

// --- typing ---------------------------------------------------------------

let typingSentAt = 0, typingRoom = null;
export function typing(room, active = true) {
  if (!conn || !conn.open) return;
  const now = Date.now();
  if (active && typingRoom === room && now - typingSentAt < 3000) return;
  if (!active && typingRoom !== room) return;
  typingSentAt = active ? now : 0;
  typingRoom = active ? room : null;
  request('typing', { room, active }).catch(() => {});
}

export function typers(room) {
  const m = state.typing.get(room);
  if (!m) return [];
  const now = Date.now();
  return [...m.entries()].filter(([u, exp]) => exp > now && u !== state.me.id).map(([u]) => u);
}

setInterval(() => {
  const now = Date.now();
  for (const [room, m] of state.typing) {
    let changed = false;
    for (const [u, exp] of m) if (exp <= now) { m.delete(u); changed = true; }
    if (changed) emit('typing', { room });
  }
}, 1000);

// --- rooms ----------------------------------------------------------------

export function select(room) {
  state.current = room;
  emit('current', room);
  if (room && !bucket(room).loaded) loadHistory(room).catch((e) => emit('error', e));
}

export async function createRoom(name, topic, members) {
  const r = await request('room.create', { name, ...(topic ? { topic } : {}), members });
  state.rooms.set(r.room.id, { unread: 0, unread_mentions: 0, ...r.room });
  noteActivity(r.room.id, Date.now());
  emit('rooms');
  return r.room;
}

export async function direct(user) {
  const r = await request('room.direct', { user });
  if (!state.rooms.has(r.room.id)) state.rooms.set(r.room.id, { unread: 0, unread_mentions: 0, ...r.room });
  noteActivity(r.room.id, Date.now());
  emit('rooms');
  return r.room;
}

export const invite = (room, user) => request('room.invite', { room, user });
export const leave = (room) => request('room.leave', { room });
export const search = (query, before) => request('search', { query, limit: 30, ...(before ? { before } : {}) });

// --- events ---------------------------------------------------------------

function upsertRoom(room) {
  const old = state.rooms.get(room.id) || { unread: 0, unread_mentions: 0 };
  state.rooms.set(room.id, { ...old, ...room });
}

function onEvent(m) {
  const d = m.data || {};
  switch (m.event) {
  case 'message.new': {
    const msg = d.message;
    const b = state.msgs.get(msg.room);
    let fresh = true;
    if (b) {
      if (d.client_id && b.byId.has(d.client_id)) settle(b, d.client_id, msg);
      else fresh = put(b, msg);
    }
    noteActivity(msg.room, msg.created_at);
    const room = state.rooms.get(msg.room);
    const mine = msg.sender === state.me.id;
    if (fresh && room && !mine && msg.id > (room.last_read || 0)) {
      const visible = state.current === msg.room && !document.hidden;
      if (!visible) {
        room.unread = (room.unread || 0) + 1;
        if ((msg.mentions || []).includes(state.me.id)) room.unread_mentions = (room.unread_mentions || 0) + 1;
      }
      emit('notify', msg);
    }
    const t = state.typing.get(msg.room);
    if (t) t.delete(msg.sender);
    emit('rooms');
    if (b) emit('messages', { room: msg.room, incoming: !mine, message: msg });
    emit('typing', { room: msg.room });
    break;
  }
  case 'message.edited': {
    const b = state.msgs.get(d.message.room);
    if (b && b.byId.has(d.message.id)) { put(b, d.message); emit('messages', { room: d.message.room }); }
    break;
  }
  case 'message.deleted': {
    const b = state.msgs.get(d.room);
    const msg = b && b.byId.get(d.message);
    if (msg) {
      put(b, { ...msg, deleted: true, body: '', reactions: [], mentions: [], files: undefined });
      emit('messages', { room: d.room });
    }
    break;
  }
  case 'reaction.added': case 'reaction.removed': {
    const b = state.msgs.get(d.room);
    const msg = b && b.byId.get(d.message);
    if (!msg) break;
    const reactions = (msg.reactions || []).map((r) => ({ emoji: r.emoji, users: [...r.users] }));
    let r = reactions.find((x) => x.emoji === d.emoji);
    if (m.event === 'reaction.added') {
      if (!r) reactions.push(r = { emoji: d.emoji, users: [] });
      if (!r.users.includes(d.user)) r.users.push(d.user);
    } else if (r) {
      r.users = r.users.filter((u) => u !== d.user);
    }
    put(b, { ...msg, reactions: reactions.filter((x) => x.users.length) });
    emit('messages', { room: d.room });
    break;
  }
  case 'read': {
    if (d.user === state.me.id) {
      const room = state.rooms.get(d.room);
      if (room && d.message >= (room.last_read || 0)) {
        room.last_read = d.message; room.unread = 0; room.unread_mentions = 0; emit('rooms');
      }
      break;
    }
    if (!state.reads.has(d.room)) state.reads.set(d.room, new Map());
    const rm = state.reads.get(d.room);
    if ((rm.get(d.user) || 0) < d.message) rm.set(d.user, d.message);
    emit('reads', { room: d.room });
    break;
  }
  case 'room.joined': upsertRoom(d.room); noteActivity(d.room.id, Date.now()); emit('rooms'); break;
  case 'room.updated': upsertRoom(d.room); emit('rooms'); emit('room', d.room.id); break;
  case 'room.left': {
    const id = typeof d.room === 'object' ? d.room.id : d.room;
    state.rooms.delete(id);
    state.msgs.delete(id);
    if (state.current === id) select(null);
    emit('rooms');
    break;
  }
  case 'room.member': {
    const id = typeof d.room === 'object' ? d.room.id : d.room;
    if (typeof d.room === 'object') upsertRoom(d.room);
    else request('room.get', { room: id }).then((r) => { upsertRoom(r.room); emit('rooms'); emit('room', id); }).catch(() => {});
    emit('rooms'); emit('room', id);
    break;
  }
  case 'presence': {
    if (d.status === 'offline') state.presence.delete(d.user); else state.presence.set(d.user, d.status);
    if (!state.users.has(d.user)) loadUsers().then(() => emit('users')).catch(() => {});
    emit('presence', d);
    break;
  }
  case 'typing': {
    if (!state.typing.has(d.room)) state.typing.set(d.room, new Map());
    const t = state.typing.get(d.room);
    if (d.active === false) t.delete(d.user); else t.set(d.user, Date.now() + 6000);
    emit('typing', { room: d.room });
    break;
  }
  default:
    if (m.event.startsWith('call.')) emit('call', m);
  }
}

// Hear presence only for the people this client shows: everyone sharing a room.
let subscribed = '';
async function subscribePresence() {
  const ids = new Set();
  for (const r of state.rooms.values()) for (const m of r.members) ids.add(m.user);
  ids.delete(state.me.id);
  const users = [...ids].sort((a, b) => a - b).slice(0, 2000);
  const key = users.join(',');
  if (key === subscribed) return;
  try {
    const r = await request('presence.subscribe', { users });
    subscribed = key;
    for (const p of r.presence) {
      if (p.status === 'offline') state.presence.delete(p.user); else state.presence.set(p.user, p.status);
    }
    emit('presence');
  } catch (e) {
    if (e.code !== 'unknown_type') console.warn('presence.subscribe', e.message);
  }
}
let subTimer = null;
on('rooms', () => { clearTimeout(subTimer); subTimer = setTimeout(() => { if (conn && conn.open) subscribePresence(); }, 500); });

// signald does not announce "offline" when it closes a connection itself
// (sign-out, password change), so presence is re-read now and then.
setInterval(async () => {
  if (!conn || !conn.open) return;
  try {
    const pres = await request('presence.list');
    const next = new Map(pres.online.map((p) => [p.user, p.status]));
    const same = next.size === state.presence.size && [...next].every(([u, s]) => state.presence.get(u) === s);
    if (!same) { state.presence = next; emit('presence'); }
  } catch { /* next time */ }
}, 30000);

export function setAway(away) {
  if (conn && conn.open) request('presence.set', { status: away ? 'away' : 'online' }).catch(() => {});
}
