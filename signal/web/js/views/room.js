// views/room.js - the open room: header, message list with infinite scroll,
// read receipts, typing indicator, composer and drag-and-drop.
import { h, svg, avatar, toast } from '../dom.js';
import { I } from '../icons.js';
import { t, fmtDay } from '../i18n.js';
import * as store from '../store.js';
import { renderMessage } from './message.js';
import { createComposer } from './composer.js';
import { confirmDialog } from './dialog.js';

export function createRoomView({ onMenu, onMembers, onCall, onPresent, onInvite, onSearch }) {
  const composer = createComposer();
  const title = h('h1.room-title');
  const topic = h('p.room-topic');
  const headIcon = h('span.head-icon');
  const callBtns = h('div.head-actions');
  const list = h('div.messages', { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', tabindex: '0' });
  const scroller = h('div.scroller', { on: { scroll: onScroll } }, list);
  const typingLine = h('div.typing', { 'aria-live': 'polite' });
  const dropZone = h('div.dropzone', { hidden: true });
  const jumpBtn = h('button.jump-latest', { type: 'button', hidden: true, text: '↓ ' + t('msg.new'), on: { click: () => scrollBottom(true) } });
  const empty = h('div.empty-state', h('div.empty-inner', svg(I.logo), h('h2'), h('p', { text: t('room.none') })));
  const pane = h('section.room', { hidden: true },
    h('header.room-head',
      h('button.icon-btn.only-mobile', { type: 'button', 'aria-label': t('menu'), title: t('menu'), on: { click: onMenu } }, svg(I.menu)),
      headIcon, h('div.room-heading', title, topic), callBtns),
    scroller, jumpBtn, typingLine, composer.el, dropZone);
  const el = h('main.main', { id: 'main' }, empty, pane);

  let room = null;
  const cache = new Map(); // id -> {msg, compact, el}
  let loadingOlder = false;

  function header() {
    const r = store.state.rooms.get(room);
    if (!r) return;
    title.textContent = store.roomTitle(r);
    topic.textContent = r.kind === 'direct' ? `@${(store.state.users.get(store.directPeer(r)) || {}).name || ''}` : (r.topic || t('members.count', { n: r.members.length }));
    const peer = store.directPeer(r);
    headIcon.replaceChildren(r.kind === 'direct' ? avatar(store.state.users.get(peer) || { id: peer }, 'sm') : svg(I.hash));
    const b = (icon, label, action, fn) => h('button.icon-btn', { type: 'button', title: label, 'aria-label': label, 'data-action': action, on: { click: fn } }, svg(icon));
    const canInvite = r.kind === 'group' && (r.role === 'owner' || r.role === 'admin');
    callBtns.replaceChildren(...[
      b(I.phone, t('call.audio'), 'call-audio', () => onCall(room, 'audio')),
      b(I.video, t('call.video'), 'call-video', () => onCall(room, 'video')),
      b(I.screen, t('bc.present'), 'present', () => onPresent(room)),
      canInvite ? b(I.userPlus, t('room.invite'), 'invite', () => onInvite(room)) : null,
      b(I.search, t('search'), 'search-room', onSearch),
      b(I.users, t('members'), 'members', onMembers),
      r.kind === 'group' ? b(I.door, t('leave'), 'leave', leave) : null].filter(Boolean));
  }

  async function leave() {
    const r = store.state.rooms.get(room);
    if (!r || !await confirmDialog(t('room.leave.confirm', { name: r.name }), t('leave'), { danger: true })) return;
    try { await store.leave(r.id); } catch (e) { toast(t('error', { msg: e.message }), 'error'); }
  }

  function atBottom() { return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60; }
  function scrollBottom(smooth) {
    scroller.scrollTo({ top: scroller.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    stuck = true;
    jumpBtn.hidden = true;
  }

  function receipts(msgs) {
    // reader -> newest message id they read; show names under that message
    const reads = store.state.reads.get(room);
    const at = new Map();
    if (!reads) return at;
    const ids = msgs.filter((m) => typeof m.id === 'number').map((m) => m.id);
    for (const [user, upto] of reads) {
      let best = null;
      for (const id of ids) if (id <= upto) best = id;
      if (best === null) continue;
      if (!at.has(best)) at.set(best, []);
      at.get(best).push(user);
    }
    return at;
  }

  function render({ older = false, incoming = false, sent = false } = {}) {
    const b = store.state.msgs.get(room);
    if (!b) { list.replaceChildren(h('div.loading', { text: t('msg.loading') })); return; }
    const stick = atBottom() || sent;
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    const r = store.state.rooms.get(room);
    const canModerate = r && (r.role === 'owner' || r.role === 'admin' || store.state.me.is_admin);
    const ctx = { room, onReply: composer.reply, onEdit: composer.edit, onDelete: del, onReact: react, onJump: jump, canModerate };
    const nodes = [];
    if (!b.more && b.loaded) {
      nodes.push(h('div.room-start', h('h2', { text: r ? store.roomTitle(r) : '' }),
        h('p', { text: b.list.length ? t('room.start', { name: r ? store.roomTitle(r) : '' }) : t('room.empty') })));
    } else if (b.more) {
      nodes.push(h('div.loading', { text: t('msg.loading') }));
    }
    const seen = receipts(b.list);
    let prev = null;
    const keep = new Set();
    for (const m of b.list) {
      const day = fmtDay(m.created_at);
      if (!prev || fmtDay(prev.created_at) !== day) nodes.push(h('div.day', h('span', { text: day })));
      const compact = !!(prev && prev.sender === m.sender && !prev.deleted && m.created_at - prev.created_at < 5 * 60000 &&
        fmtDay(prev.created_at) === day && !m.reply_to);
      const key = `${m.pending ? 'p' : ''}${m.failed ? 'f' : ''}`;
      let c = cache.get(m.id);
      if (!c || c.msg !== m || c.compact !== compact || c.key !== key) {
        c = { msg: m, compact, key, el: renderMessage(m, { ...ctx, compact }) };
        cache.set(m.id, c);
      }
      keep.add(m.id);
      nodes.push(c.el);
      if (seen.has(m.id)) {
        nodes.push(h('div.receipt', { 'data-receipt': m.id, text: '✓ ' + t('msg.seen', { names: seen.get(m.id).map(store.userName).join(', ') }) }));
      }
      prev = m;
    }
    for (const id of cache.keys()) if (!keep.has(id)) cache.delete(id);
    list.replaceChildren(...nodes);
    if (older) scroller.scrollTop = scroller.scrollHeight - fromBottom;
    else if (stick) scrollBottom(false);
    else if (incoming) jumpBtn.hidden = false;
    if (atBottom() && !document.hidden) store.markRead(room);
    // fill the viewport on tall screens
    if (b.more && b.loaded && scroller.scrollHeight <= scroller.clientHeight + 10) loadOlder();
  }

  async function loadOlder() {
    const b = store.state.msgs.get(room);
    if (!b || !b.more || loadingOlder || !b.loaded) return;
    loadingOlder = true;
    try { await store.loadHistory(room); } catch (e) { toast(t('error', { msg: e.message }), 'error'); } finally { loadingOlder = false; }
  }

  // images change heights after render: stay at the bottom if we were there
  let stuck = true;
  list.addEventListener('load', () => { if (stuck) scroller.scrollTop = scroller.scrollHeight; }, true);

  function onScroll() {
    stuck = atBottom();
    if (scroller.scrollTop < 300) loadOlder();
    if (atBottom()) { jumpBtn.hidden = true; store.markRead(room); }
  }

  async function del(m) {
    if (!await confirmDialog(t('msg.delete.confirm'), t('msg.delete'), { danger: true })) return;
    store.remove(m.id).catch((e) => toast(t('error', { msg: e.message }), 'error'));
  }
  function react(m, emoji) { store.toggleReaction(m, emoji).catch((e) => toast(t('error', { msg: e.message }), 'error')); }

  async function jump(id) {
    const found = await store.loadUntil(room, id);
    render();
    const c = found && cache.get(id);
    if (!c) return;
    c.el.scrollIntoView({ block: 'center' });
    c.el.classList.add('flash');
    c.el.focus({ preventScroll: true });
    setTimeout(() => c.el.classList.remove('flash'), 2000);
  }

  function drawTyping() {
    const who = store.typers(room).map(store.userName);
    typingLine.replaceChildren();
    if (!who.length) return;
    const text = who.length === 1 ? t('typing.one', { a: who[0] }) : who.length === 2 ? t('typing.two', { a: who[0], b: who[1] }) : t('typing.many');
    typingLine.append(h('span.dots', h('i'), h('i'), h('i')), h('span', { text }));
  }

  function show(id) {
    room = id;
    cache.clear();
    empty.hidden = !!id;
    pane.hidden = !id;
    if (!id) {
      empty.querySelector('h2').textContent = t('room.welcome', { name: store.state.me.display_name || store.state.me.name });
      return;
    }
    header();
    composer.setRoom(id);
    render();
    drawTyping();
    scrollBottom(false);
    if (window.matchMedia('(min-width: 800px)').matches) composer.focus();
  }

  // drag and drop anywhere over the room
  let dragDepth = 0;
  pane.addEventListener('dragenter', (e) => {
    if (!e.dataTransfer || ![...e.dataTransfer.types].includes('Files')) return;
    e.preventDefault(); dragDepth++;
    const r = store.state.rooms.get(room);
    dropZone.replaceChildren(h('div', svg(I.clip), h('p', { text: t('drop', { name: r ? store.roomTitle(r) : '' }) })));
    dropZone.hidden = false;
  });
  pane.addEventListener('dragover', (e) => { if (!dropZone.hidden) e.preventDefault(); });
  pane.addEventListener('dragleave', () => { if (--dragDepth <= 0) { dragDepth = 0; dropZone.hidden = true; } });
  pane.addEventListener('drop', (e) => {
    e.preventDefault(); dragDepth = 0; dropZone.hidden = true;
    const files = [...(e.dataTransfer || {}).files || []];
    if (files.length) composer.uploadFiles(files);
  });

  store.on('current', show);
  store.on('messages', (d) => { if (d.room === room) render(d); });
  store.on('reads', (d) => { if (d.room === room) render(); });
  store.on('typing', (d) => { if (d.room === room) drawTyping(); });
  store.on('rooms', () => { if (room) header(); });
  store.on('room', (id) => { if (id === room) header(); });
  store.on('users', () => { if (room) { cache.clear(); header(); render(); } });
  document.addEventListener('visibilitychange', () => { if (!document.hidden && room && atBottom()) store.markRead(room); });
  show(null);
  return { el, jump, composer };
}
