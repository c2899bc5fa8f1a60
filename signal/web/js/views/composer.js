// views/composer.js - message input: send, reply, edit, @-autocomplete,
// typing notifications, attachments with upload progress.
import { h, svg, fmtBytes, toast } from '../dom.js';
import { I } from '../icons.js';
import { t } from '../i18n.js';
import * as store from '../store.js';
import * as api from '../api.js';

export function createComposer() {
  let room = null, replyTo = null, editing = null;
  const uploads = h('div.uploads', { 'aria-live': 'polite' });
  const context = h('div.composer-context');
  const input = h('textarea.composer-input', { rows: 1, id: 'composer', 'aria-label': t('composer.send'),
    on: { keydown: onKey, input: onInput, paste: onPaste, blur: () => { if (room) store.typing(room, false); setTimeout(closeAc, 150); } } });
  const fileInput = h('input', { type: 'file', multiple: true, hidden: true, 'aria-hidden': 'true',
    on: { change: () => { uploadFiles([...fileInput.files]); fileInput.value = ''; } } });
  const ac = h('ul.autocomplete', { role: 'listbox', hidden: true });
  let acItems = [], acIndex = 0, acStart = -1;
  const sendBtn = h('button.icon-btn.send', { type: 'button', title: t('composer.send'), 'aria-label': t('composer.send'), 'data-action': 'send', on: { click: submit } }, svg(I.send));
  const el = h('div.composer',
    uploads, context, ac,
    h('div.composer-box',
      h('button.icon-btn', { type: 'button', title: t('composer.attach'), 'aria-label': t('composer.attach'), 'data-action': 'attach', on: { click: () => fileInput.click() } }, svg(I.clip)),
      input, sendBtn, fileInput),
    h('small.composer-hint', { text: t('composer.hint') }));

  function members() {
    const r = store.state.rooms.get(room);
    return r ? r.members.map((m) => store.state.users.get(m.user)).filter(Boolean) : [];
  }

  function setRoom(id) {
    if (room && room !== id) store.typing(room, false);
    room = id;
    replyTo = editing = null;
    drawContext();
    const r = store.state.rooms.get(id);
    input.placeholder = r ? t('composer.placeholder', { name: (r.kind === 'direct' ? '' : '#') + store.roomTitle(r) }) : '';
    input.value = drafts.get(id) || '';
    autosize();
  }
  const drafts = new Map();

  function drawContext() {
    context.replaceChildren();
    if (!replyTo && !editing) return;
    const label = editing ? t('composer.editing') : t('composer.replying', { name: store.userName(replyTo.sender) });
    context.append(h('div.context-bar',
      svg(editing ? I.edit : I.reply), h('span', h('strong', { text: label }), ' ',
        h('span.context-text', { text: (editing || replyTo).body.slice(0, 120) })),
      h('button.icon-btn.small', { type: 'button', 'aria-label': t('cancel'), title: t('cancel'), on: { click: cancelContext } }, svg(I.x))));
  }
  function cancelContext() {
    if (editing) input.value = '';
    replyTo = editing = null;
    drawContext(); autosize();
  }

  function reply(m) { editing = null; replyTo = m; drawContext(); input.focus(); }
  function edit(m) { replyTo = null; editing = m; input.value = m.body; drawContext(); autosize(); input.focus(); }

  function mentionIds(body) {
    const byName = new Map(members().map((u) => [u.name, u.id]));
    const ids = new Set();
    for (const m of body.matchAll(/@([A-Za-z0-9._-]+)/g)) if (byName.has(m[1])) ids.add(byName.get(m[1]));
    return [...ids];
  }

  async function submit() {
    const body = input.value.trim();
    if (!body || !room) return;
    const target = room;
    store.typing(target, false);
    if (editing) {
      const m = editing;
      cancelContext();
      input.value = '';
      if (body !== m.body) store.edit(m.id, body, mentionIds(body)).catch((e) => toast(t('error', { msg: e.message }), 'error'));
      return;
    }
    const opts = { reply_to: replyTo ? replyTo.id : undefined, mentions: mentionIds(body) };
    input.value = '';
    drafts.delete(target);
    replyTo = null; drawContext(); autosize();
    store.send(target, body, opts).catch(() => {});
  }

  function onKey(e) {
    if (!ac.hidden) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        acIndex = (acIndex + (e.key === 'ArrowDown' ? 1 : acItems.length - 1)) % acItems.length;
        drawAc(); return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); pickAc(acItems[acIndex]); return; }
      if (e.key === 'Escape') { e.preventDefault(); closeAc(); return; }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); return; }
    if (e.key === 'Escape' && (replyTo || editing)) { e.preventDefault(); cancelContext(); return; }
    if (e.key === 'ArrowUp' && !input.value) {
      const b = store.state.msgs.get(room);
      const last = b && [...b.list].reverse().find((m) => m.sender === store.state.me.id && !m.deleted && typeof m.id === 'number');
      if (last) { e.preventDefault(); edit(last); }
    }
  }

  function onInput() {
    autosize();
    drafts.set(room, input.value);
    if (input.value.trim()) store.typing(room, true); else store.typing(room, false);
    // @-autocomplete on the word before the caret
    const upto = input.value.slice(0, input.selectionStart);
    const m = /(^|\s)@([A-Za-z0-9._-]*)$/.exec(upto);
    if (!m) { closeAc(); return; }
    acStart = upto.length - m[2].length - 1;
    const q = m[2].toLowerCase();
    acItems = members().filter((u) => u.id !== store.state.me.id &&
      (u.name.toLowerCase().startsWith(q) || (u.display_name || '').toLowerCase().startsWith(q))).slice(0, 8);
    acIndex = 0;
    if (!acItems.length) { closeAc(); return; }
    drawAc();
  }
  function drawAc() {
    ac.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    ac.replaceChildren(...acItems.map((u, i) => h(`li${i === acIndex ? '.active' : ''}`, { role: 'option', 'aria-selected': String(i === acIndex),
      on: { mousedown: (e) => { e.preventDefault(); pickAc(u); } } },
    h('strong', { text: u.display_name || u.name }), h('small', { text: ' @' + u.name }))));
  }
  function closeAc() { ac.hidden = true; input.setAttribute('aria-expanded', 'false'); }
  function pickAc(u) {
    const before = input.value.slice(0, acStart), after = input.value.slice(input.selectionStart);
    input.value = `${before}@${u.name} ${after}`;
    const pos = before.length + u.name.length + 2;
    input.setSelectionRange(pos, pos);
    closeAc(); autosize(); input.focus();
  }

  function autosize() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(200, input.scrollHeight)}px`;
  }

  function onPaste(e) {
    const files = [...(e.clipboardData || {}).files || []];
    if (files.length) { e.preventDefault(); uploadFiles(files); }
  }

  // Upload each file with a progress bar, then send one message carrying them.
  async function uploadFiles(files) {
    if (!room || !files.length) return;
    const target = room;
    const caption = input.value.trim();
    const done = [];
    await Promise.all(files.map(async (file) => {
      const bar = h('progress', { max: 1, value: 0 });
      const pct = h('small', { text: '0%' });
      const row = h('div.upload', svg(I.file), h('span.upload-name', { text: file.name }), h('small', { text: fmtBytes(file.size) }), bar, pct);
      const up = api.upload(target, file, (p) => { bar.value = p; pct.textContent = `${Math.round(p * 100)}%`; });
      row.append(h('button.icon-btn.small', { type: 'button', 'aria-label': t('cancel'), on: { click: up.abort } }, svg(I.x)));
      uploads.append(row);
      try {
        done.push(await up.promise);
      } catch (e) {
        if (e.code !== 'aborted') toast(e.status === 413 ? t('upload.too_large', { name: file.name }) : t('upload.failed', { name: file.name, msg: e.message }), 'error', 6000);
      } finally { row.remove(); }
    }));
    if (!done.length) return;
    let body = done.map((f) => f.name).join(', ');
    if (caption && target === room) { body = caption; input.value = ''; drafts.delete(target); autosize(); }
    store.send(target, body, { files: done, mentions: mentionIds(body) }).catch(() => {});
  }

  return { el, setRoom, reply, edit, uploadFiles, focus: () => input.focus() };
}
