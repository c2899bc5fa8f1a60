// views/dialogs.js - new room, new direct message, invite, password, settings.
import { h, avatar, toast } from '../dom.js';
import { t, languages, getLang, setLang } from '../i18n.js';
import * as store from '../store.js';
import * as api from '../api.js';
import * as notify from '../notify.js';
import { modal, peoplePicker } from './dialog.js';
import { echoDialog } from './echo.js';

const others = (exclude = []) => [...store.state.users.values()]
  .filter((u) => u.id !== store.state.me.id && !u.disabled && !exclude.includes(u.id))
  .map((u) => ({ ...u, __avatar: () => avatar(u, 'sm') }))
  .sort((a, b) => (a.display_name || a.name).localeCompare(b.display_name || b.name));

const field = (label, input) => h('label.field', h('span', { text: label }), input);

export function newRoomDialog() {
  const name = h('input', { id: 'room-name', maxlength: 64, required: true });
  const topic = h('input', { id: 'room-topic', maxlength: 200 });
  const picker = peoplePicker(others());
  const err = h('p.form-error', { role: 'alert' });
  const create = async () => {
    if (!name.value.trim()) { name.focus(); return; }
    try {
      const room = await store.createRoom(name.value.trim(), topic.value.trim(), [...picker.chosen]);
      d.close();
      store.select(room.id);
    } catch (e) { err.textContent = e.message; }
  };
  const d = modal(t('room.new'), h('form', { on: { submit: (e) => { e.preventDefault(); create(); } } },
    field(t('room.name'), name), field(t('room.topic'), topic),
    h('p.field-label', { text: t('room.members') }), picker.el, err), {
    actions: [h('button.btn', { type: 'button', text: t('cancel'), on: { click: () => d.close() } }),
      h('button.btn.primary', { type: 'button', text: t('create'), 'data-action': 'create-room', on: { click: create } })] });
}

export function newDirectDialog() {
  const picker = peoplePicker(others(), { multi: false, onPick: async (u) => {
    try { const r = await store.direct(u.id); d.close(); store.select(r.id); } catch (e) { toast(e.message, 'error'); }
  } });
  const d = modal(t('dm.new'), picker.el);
}

export function inviteDialog(roomId) {
  const room = store.state.rooms.get(roomId);
  if (!room) return;
  const picker = peoplePicker(others(room.members.map((m) => m.user)));
  const err = h('p.form-error', { role: 'alert' });
  const go = async () => {
    try {
      for (const u of picker.chosen) await store.invite(roomId, u);
      d.close();
    } catch (e) { err.textContent = e.message; }
  };
  const d = modal(`${t('room.invite')} · ${room.name}`, h('div', picker.el, err), {
    actions: [h('button.btn', { type: 'button', text: t('cancel'), on: { click: () => d.close() } }),
      h('button.btn.primary', { type: 'button', text: t('invite'), 'data-action': 'invite-go', on: { click: go } })] });
}

export function passwordDialog() {
  const pw = (id, ac) => h('input', { id, type: 'password', autocomplete: ac, required: true });
  const oldPw = pw('pw-old', 'current-password'), newPw = pw('pw-new', 'new-password'), again = pw('pw-again', 'new-password');
  const err = h('p.form-error', { role: 'alert' });
  const save = async () => {
    err.textContent = '';
    if (newPw.value.length < 8) { err.textContent = t('password.short'); return; }
    if (newPw.value !== again.value) { err.textContent = t('password.mismatch'); return; }
    try {
      await api.changePassword(oldPw.value, newPw.value);
      d.close();
      toast(t('password.done'), 'success');
    } catch (e) {
      err.textContent = e.status === 403 ? t('password.wrong') : e.status === 429 ? t('login.wait', { s: e.retryAfter || 1 }) : e.message;
    }
  };
  const d = modal(t('password.change'), h('form', { on: { submit: (e) => { e.preventDefault(); save(); } } },
    h('input', { type: 'text', autocomplete: 'username', value: store.state.me.name, hidden: true, readonly: true }),
    field(t('password.old'), oldPw), field(t('password.new'), newPw), field(t('password.confirm'), again), err,
    h('button', { type: 'submit', hidden: true })), {
    actions: [h('button.btn', { type: 'button', text: t('cancel'), on: { click: () => d.close() } }),
      h('button.btn.primary', { type: 'button', text: t('save'), 'data-action': 'save-password', on: { click: save } })] });
}

export function settingsDialog() {
  const lang = h('select', { id: 'set-lang', on: { change: (e) => { setLang(e.target.value); d.close(); } } },
    languages().map(([v, l]) => h('option', { value: v, selected: v === getLang(), text: l })));
  const note = h('p.muted');
  const perm = notify.permission();
  const notifBtn = h('button.btn', { type: 'button', text: t('notifications.on'), disabled: perm !== 'default',
    on: { click: async () => { const p = await notify.ask(); notifBtn.disabled = p !== 'default'; drawNote(p); } } });
  const drawNote = (p) => { note.textContent = p === 'granted' ? '✓' : p === 'denied' ? t('notifications.blocked') : ''; };
  drawNote(perm);
  const sound = h('input', { type: 'checkbox', id: 'set-sound', checked: notify.soundOn(), on: { change: (e) => notify.setSound(e.target.checked) } });
  const d = modal(t('settings'), h('div.settings',
    field(t('language'), lang),
    h('div.field', h('span', { text: t('notifications') }), h('div.row', notifBtn, note)),
    h('label.check-row', sound, h('span', { text: t('sound') })),
    h('div.field', h('span', { text: t('echo.title') }),
      h('button.btn', { type: 'button', text: t('echo.open'), 'data-action': 'echo-test',
        on: { click: () => { d.close(); echoDialog(); } } }))));
}
