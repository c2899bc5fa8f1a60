// views/message.js - one message: header, reply quote, text, files, reactions, actions.
import { h, svg, avatar, richText, fmtBytes } from '../dom.js';
import { I } from '../icons.js';
import { t, fmtTime } from '../i18n.js';
import * as store from '../store.js';

export const QUICK = ['👍', '❤️', '😂', '🎉', '😮', '👀', '🙏', '✅'];

export function fileOnlyBody(m) {
  return m.files && m.files.length && m.body === m.files.map((f) => f.name).join(', ');
}

function fileView(f) {
  const url = f.url || `/api/files/${f.id}`;
  if (/^image\/(png|jpeg|gif|webp)$/.test(f.mime)) {
    return h('a.file-image', { href: url, target: '_blank', rel: 'noopener', title: f.name },
      h('img', { src: url, alt: f.name, loading: 'lazy', decoding: 'async' }));
  }
  return h('a.file-card', { href: url, download: f.name, rel: 'noopener' },
    h('span.file-icon', svg(I.file)),
    h('span.file-meta', h('span.file-name', { text: f.name }), h('small', { text: `${fmtBytes(f.size)} · ${(f.mime || '').split('/').pop()}` })),
    h('span.file-dl', svg(I.download)));
}

// ctx: {room, compact, onReply, onEdit, onDelete, onReact, onJump, canModerate}
export function renderMessage(m, ctx) {
  const me = store.state.me;
  const sender = store.state.users.get(m.sender) || { id: m.sender, name: `#${m.sender}` };
  const mine = m.sender === me.id;
  const roomMembers = (store.state.rooms.get(m.room) || { members: [] }).members
    .map((x) => (store.state.users.get(x.user) || {}).name).filter(Boolean);
  const mentionsMe = (m.mentions || []).includes(me.id);

  const main = h('div.msg-main');
  if (!ctx.compact) {
    main.append(h('div.msg-head',
      h('span.msg-author', { text: sender.display_name || sender.name }),
      h('time.msg-time', { datetime: new Date(m.created_at).toISOString(), title: new Date(m.created_at).toLocaleString(), text: fmtTime(m.created_at) })));
  }
  if (m.reply_to && !m.deleted) {
    const b = store.state.msgs.get(m.room);
    const orig = b && b.byId.get(m.reply_to);
    main.append(h('button.reply-quote', { type: 'button', on: { click: () => ctx.onJump(m.reply_to) } },
      svg(I.reply),
      orig ? h('strong', { text: store.userName(orig.sender) }) : null,
      h('span', { text: orig ? (orig.deleted ? t('msg.deleted') : orig.body.slice(0, 140)) : '…' })));
  }
  if (m.deleted) {
    main.append(h('p.msg-body.deleted', { text: t('msg.deleted') }));
  } else {
    if (!fileOnlyBody(m)) {
      main.append(h('div.msg-body', richText(m.body, { mentionNames: roomMembers, me: me.name }),
        m.edited_at ? h('span.edited', { title: new Date(m.edited_at).toLocaleString(), text: ' ' + t('msg.edited') }) : null));
    }
    if (m.files && m.files.length) main.append(h('div.msg-files', m.files.map(fileView)));
    if (m.reactions && m.reactions.length) {
      main.append(h('div.reactions', m.reactions.map((r) => {
        const minePick = r.users.includes(me.id);
        const who = r.users.map((u) => store.userName(u)).join(', ');
        return h(`button.reaction${minePick ? '.mine' : ''}`, { type: 'button', title: who, 'aria-pressed': String(minePick),
          'aria-label': `${r.emoji} ${r.users.length}: ${who}`, on: { click: () => ctx.onReact(m, r.emoji) } },
        h('span.emoji', { text: r.emoji }), h('span.count', { text: r.users.length }));
      })));
    }
  }
  if (m.pending) main.append(h('small.msg-state', { text: t('msg.sending') }));
  if (m.failed) main.append(h('small.msg-state.failed', { text: `${t('msg.failed')}: ${m.failed}` }));

  const actions = (m.deleted || m.pending || m.failed) ? null : h('div.msg-actions', { role: 'toolbar', 'aria-label': 'message actions' },
    h('button.icon-btn.small', { type: 'button', title: t('msg.react'), 'aria-label': t('msg.react'), 'data-action': 'react',
      on: { click: (e) => reactPicker(e.currentTarget, (emoji) => ctx.onReact(m, emoji)) } }, svg(I.smile)),
    h('button.icon-btn.small', { type: 'button', title: t('msg.reply'), 'aria-label': t('msg.reply'), 'data-action': 'reply', on: { click: () => ctx.onReply(m) } }, svg(I.reply)),
    mine ? h('button.icon-btn.small', { type: 'button', title: t('msg.edit'), 'aria-label': t('msg.edit'), 'data-action': 'edit', on: { click: () => ctx.onEdit(m) } }, svg(I.edit)) : null,
    (mine || ctx.canModerate) ? h('button.icon-btn.small.danger', { type: 'button', title: t('msg.delete'), 'aria-label': t('msg.delete'), 'data-action': 'delete', on: { click: () => ctx.onDelete(m) } }, svg(I.trash)) : null);

  return h(`div.msg${ctx.compact ? '.compact' : ''}${mine ? '.mine' : ''}${mentionsMe ? '.mentioned' : ''}${m.pending ? '.pending' : ''}`,
    { 'data-id': m.id, tabindex: '-1' },
    ctx.compact ? h('time.msg-gutter', { text: fmtTime(m.created_at) }) : avatar(sender),
    main, actions);
}

export function reactPicker(anchor, pick) {
  document.querySelectorAll('.react-pop').forEach((x) => x.remove());
  const pop = h('div.react-pop', { role: 'menu' }, QUICK.map((e) =>
    h('button', { type: 'button', role: 'menuitem', text: e, 'aria-label': e, on: { click: () => { pop.remove(); pick(e); } } })));
  const r = anchor.getBoundingClientRect();
  pop.style.top = `${Math.max(8, r.top - 48)}px`;
  pop.style.left = `${Math.max(8, Math.min(window.innerWidth - 330, r.left - 150))}px`;
  document.body.append(pop);
  pop.querySelector('button').focus();
  const off = (e) => {
    if (e.type === 'keydown' && e.key !== 'Escape') return;
    if (e.type === 'mousedown' && pop.contains(e.target)) return;
    pop.remove(); document.removeEventListener('mousedown', off, true); document.removeEventListener('keydown', off, true);
    if (e.type === 'keydown') anchor.focus();
  };
  document.addEventListener('mousedown', off, true);
  document.addEventListener('keydown', off, true);
}
