// views/members.js - the room's members with presence, sorted online first.
import { h, svg, avatar, toast } from '../dom.js';
import { I } from '../icons.js';
import { t } from '../i18n.js';
import * as store from '../store.js';
import { presenceDot } from './sidebar.js';

export function createMembers({ onClose }) {
  const list = h('ul.member-list');
  const head = h('h2');
  const el = h('aside.members', { 'aria-label': t('members') },
    h('header.members-head', head,
      h('button.icon-btn', { type: 'button', 'aria-label': t('close'), title: t('close'), on: { click: onClose } }, svg(I.x))),
    list);
  const rank = { online: 0, away: 1, offline: 2 };

  function draw() {
    const room = store.state.rooms.get(store.state.current);
    if (!room) { list.replaceChildren(); head.textContent = t('members'); return; }
    head.textContent = t('members.count', { n: room.members.length });
    const rows = room.members.map((m) => ({ ...m, u: store.state.users.get(m.user) || { id: m.user, name: `#${m.user}` },
      p: store.state.presence.get(m.user) || 'offline' }))
      .sort((a, b) => rank[a.p] - rank[b.p] || (a.u.display_name || a.u.name).localeCompare(b.u.display_name || b.u.name));
    list.replaceChildren(...rows.map((m) => h(`li.member.${m.p}`, { 'data-user': m.u.name },
      h('span.avatar-wrap', avatar(m.u, 'sm'), presenceDot(m.user)),
      h('span.member-name', h('span', { text: m.u.display_name || m.u.name },
        m.user === store.state.me.id ? h('small.muted', { text: ` (${t('you')})` }) : null),
        h('small.member-sub', { text: m.role !== 'member' ? m.role : t(m.p) })),
      m.user !== store.state.me.id ? h('button.icon-btn.small', { type: 'button', title: t('start.chat'), 'aria-label': `${t('start.chat')} ${m.u.name}`,
        on: { click: async () => { try { const r = await store.direct(m.user); store.select(r.id); } catch (e) { toast(e.message, 'error'); } } } }, svg(I.send)) : null)));
  }
  for (const topic of ['current', 'rooms', 'presence', 'users', 'room']) store.on(topic, draw);
  draw();
  return { el, draw };
}
