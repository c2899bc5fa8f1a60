// views/sidebar.js - rooms and direct messages with unread and mention badges.
import { h, svg, avatar } from '../dom.js';
import { I } from '../icons.js';
import { t } from '../i18n.js';
import * as store from '../store.js';

export function presenceDot(userId) {
  const p = store.state.presence.get(userId) || 'offline';
  return h(`span.presence.${p}`, { title: t(p), 'aria-label': t(p), role: 'img' });
}

export function createSidebar({ onNewRoom, onNewDirect, onSearch, onSettings, onPassword, onLogout }) {
  const groups = h('ul.room-list', { 'aria-label': t('rooms') });
  const directs = h('ul.room-list', { 'aria-label': t('direct') });
  const filter = h('input.filter', { type: 'search', placeholder: t('filter'), 'aria-label': t('filter'), on: { input: draw } });
  const meBox = h('div.me-card');
  const calls = new Set();

  const section = (label, addLabel, onAdd, list, id) => h('section.side-section',
    h('div.side-head', h('h2', { id, text: label }),
      h('button.icon-btn.small', { type: 'button', title: addLabel, 'aria-label': addLabel, 'data-action': id, on: { click: onAdd } }, svg(I.plus))),
    list);

  const el = h('nav.sidebar', { 'aria-label': t('rooms') },
    h('div.side-top', h('div.brand', svg(I.logo), h('span.brand-name', { text: 'lanturn' })),
      h('button.icon-btn', { type: 'button', title: t('search'), 'aria-label': t('search'), 'data-action': 'search', on: { click: onSearch } }, svg(I.search))),
    h('div.side-filter', filter),
    h('div.side-scroll',
      section(t('rooms'), t('room.new'), onNewRoom, groups, 'new-room'),
      section(t('direct'), t('dm.new'), onNewDirect, directs, 'new-direct')),
    meBox);

  function item(room) {
    const active = store.state.current === room.id;
    const unread = room.unread || 0, mentions = room.unread_mentions || 0;
    const peer = store.directPeer(room);
    const icon = room.kind === 'direct'
      ? h('span.avatar-wrap', avatar(store.state.users.get(peer) || { id: peer, name: store.roomTitle(room) }, 'sm'), presenceDot(peer))
      : h('span.room-icon', svg(I.hash));
    const badge = mentions ? h('span.badge.mention', { title: `@ ${mentions}`, text: `@${mentions > 99 ? '99+' : mentions}` })
      : unread ? h('span.badge', { text: unread > 99 ? '99+' : unread }) : null;
    return h('li', h(`button.room-item${active ? '.active' : ''}${unread ? '.unread' : ''}`, {
      type: 'button', 'data-room': room.id, 'aria-current': active ? 'page' : null,
      on: { click: () => store.select(room.id) } },
    icon, h('span.room-name', { text: store.roomTitle(room) }),
    calls.has(room.id) ? h('span.call-live', { title: t('call.inprogress') }, svg(I.phone)) : null,
    badge));
  }

  function draw() {
    const q = filter.value.trim().toLowerCase();
    const rooms = store.sortedRooms().filter((r) => !q || store.roomTitle(r).toLowerCase().includes(q));
    groups.replaceChildren(...rooms.filter((r) => r.kind !== 'direct').map(item));
    directs.replaceChildren(...rooms.filter((r) => r.kind === 'direct').map(item));
    const me = store.state.me;
    if (!me) return;
    meBox.replaceChildren(
      h('span.avatar-wrap', avatar(me, 'sm'), presenceDot(me.id)),
      h('span.me-name', h('strong', { text: me.display_name || me.name }), h('small', { text: '@' + me.name })),
      h('button.icon-btn', { type: 'button', title: t('settings'), 'aria-label': t('settings'), 'data-action': 'settings', on: { click: onSettings } }, svg(I.gear)),
      h('button.icon-btn', { type: 'button', title: t('password.change'), 'aria-label': t('password.change'), 'data-action': 'password', on: { click: onPassword } }, svg(I.lock)),
      h('button.icon-btn', { type: 'button', title: t('logout'), 'aria-label': t('logout'), 'data-action': 'logout', on: { click: onLogout } }, svg(I.logout)));
    const total = [...store.state.rooms.values()].reduce((n, r) => n + (r.unread || 0), 0);
    document.title = total ? `(${total}) lanturn` : 'lanturn';
  }

  for (const topic of ['rooms', 'current', 'presence', 'users']) store.on(topic, draw);
  draw();
  return { el, draw, setCalls(ids) { calls.clear(); for (const i of ids) calls.add(i); draw(); } };
}
