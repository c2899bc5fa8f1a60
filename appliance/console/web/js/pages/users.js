// users.js - accounts: search, create, disable/enable, reset password,
// administrator rights, bulk import from CSV, and delete with a retention choice.
import { api, post } from '../api.js';
import { h, table, badge, dialog, confirm, toast, pageHeader, busy, fmtTime } from '../ui.js';

export async function render(root) {
  const search = h('input', { type: 'search', id: 'user-search', placeholder: 'Search by name…', 'aria-label': 'Search users' });
  const list = h('div', { id: 'user-list' });
  const count = h('span', { class: 'muted small', id: 'user-count' });
  const createBtn = h('button', { class: 'btn btn-primary', id: 'user-create', onclick: () => createUser(load) }, '+ New user');
  const importBtn = h('button', { class: 'btn', id: 'user-import', onclick: () => importCsv(load) }, 'Import CSV');
  root.append(pageHeader('Users', 'Accounts of the chat service. Administrators can also sign in here.', importBtn, createBtn),
    h('div', { class: 'toolbar' }, search, count), list);
  let timer;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(load, 200); });

  async function load() {
    const q = search.value.trim();
    const { users } = await api(`/api/users${q ? `?q=${encodeURIComponent(q)}` : ''}`);
    count.textContent = `${users.length} ${users.length === 1 ? 'user' : 'users'}`;
    list.replaceChildren(table([
      { label: 'Name', render: (u) => h('div', { class: 'user-cell' }, h('span', { class: 'avatar' }, (u.display_name || u.name)[0].toUpperCase()),
        h('div', {}, h('div', { class: 'strong' }, u.display_name), h('div', { class: 'muted small' }, `@${u.name}`))) },
      { label: 'Role', render: (u) => (u.is_admin ? badge('Administrator', 'info') : badge('User')) },
      { label: 'Status', render: (u) => (u.disabled ? badge('Disabled', 'bad') : badge('Active', 'ok')) },
      { label: 'Created', class: 'hide-narrow', render: (u) => fmtTime(u.created_at) },
      { label: '', class: 'actions', render: (u) => actions(u, load) },
    ], users.map((u) => ({ ...u, key: u.name })), { empty: q ? `No user matches “${q}”.` : 'No users yet.' }));
  }
  await load();
}

function actions(u, reload) {
  const run = (fn) => async (e) => { await busy(e.target, fn); await reload(); };
  return h('div', { class: 'row-actions' },
    h('button', { class: 'btn btn-small', 'data-action': 'password', onclick: run(async () => {
      const v = await dialog({ title: `Reset password of ${u.name}`, body: 'They will be signed out on every device.', submit: 'Reset password',
        fields: [{ name: 'password', label: 'New password', type: 'password', required: true, minlength: 8, autocomplete: 'new-password', help: 'At least 8 characters.' }] });
      if (!v) return;
      const r = await post('/api/users/password', { name: u.name, password: v.password });
      toast(`Password of ${u.name} reset; ${r.sessions_revoked} session(s) signed out`);
    }) }, 'Reset password'),
    h('button', { class: 'btn btn-small', 'data-action': 'admin', onclick: run(async () => {
      if (!await confirm(u.is_admin ? `Remove administrator rights of ${u.name}?` : `Make ${u.name} an administrator?`,
        u.is_admin ? 'They lose access to this console at once.' : 'They can then sign in to this console and change everything.', u.is_admin ? 'Remove rights' : 'Make administrator', !u.is_admin)) return;
      await post('/api/users/admin', { name: u.name, admin: !u.is_admin });
      toast(u.is_admin ? `${u.name} is no longer an administrator` : `${u.name} is now an administrator`);
    }) }, u.is_admin ? 'Revoke admin' : 'Make admin'),
    h('button', { class: 'btn btn-small', 'data-action': u.disabled ? 'enable' : 'disable', onclick: run(async () => {
      if (!u.disabled && !await confirm(`Disable ${u.name}?`, 'They are signed out everywhere and cannot sign in until enabled again.', 'Disable')) return;
      await post(`/api/users/${u.disabled ? 'enable' : 'disable'}`, { name: u.name });
      toast(`${u.name} ${u.disabled ? 'enabled' : 'disabled'}`);
    }) }, u.disabled ? 'Enable' : 'Disable'),
    h('button', { class: 'btn btn-small btn-ghost-danger', 'data-action': 'delete', onclick: run(async () => {
      const v = await dialog({ title: `Delete ${u.name}?`, danger: true, submit: 'Delete',
        body: 'Choose what happens to their messages and files.',
        fields: [{ name: 'retention', label: 'Their data', type: 'select', value: 'keep', options: [['keep', 'Keep messages and files (recommended)'], ['erase', 'Erase their messages and files']] }] });
      if (!v) return;
      const r = await post('/api/users/delete', { name: u.name, retention: v.retention });
      toast(r.note || `${u.name} deleted`, r.deleted ? 'ok' : 'warn');
    }) }, 'Delete'));
}

async function createUser(reload) {
  const v = await dialog({ title: 'New user', submit: 'Create user', fields: [
    { name: 'name', label: 'User name', required: true, placeholder: 'e.g. jsmith', help: 'Letters, digits, “.”, “_” and “-”. Used to sign in.' },
    { name: 'display_name', label: 'Display name', placeholder: 'e.g. Jane Smith' },
    { name: 'password', label: 'Initial password', type: 'password', required: true, minlength: 8, autocomplete: 'new-password', help: 'At least 8 characters. Tell it to them in person.' },
    { name: 'admin', label: 'Administrator (may use this console)', type: 'checkbox' }] });
  if (!v) return;
  try {
    await post('/api/users/create', { name: v.name.trim(), display_name: v.display_name.trim(), password: v.password, admin: v.admin });
    toast(`User ${v.name.trim()} created`);
  } catch (e) { toast(e.message, 'error'); }
  await reload();
}

async function importCsv(reload) {
  const v = await dialog({ title: 'Import users from CSV', submit: 'Import',
    body: 'One user per line: name,display_name,password[,admin]. A header line is allowed. Bad lines are reported; the others are created.',
    fields: [{ name: 'csv', label: 'CSV', type: 'textarea', rows: 8, placeholder: 'name,display_name,password,admin\njsmith,Jane Smith,initial-password-1,no' },
      { name: 'file', label: 'or choose a .csv file', type: 'file' }] });
  if (!v) return;
  let csv = v.csv;
  if (!csv && v.file) csv = await v.file.text();
  try {
    const r = await post('/api/users/import', { csv });
    const msg = `${r.created.length} created` + (r.errors.length ? `, ${r.errors.length} refused: ${r.errors.map((e) => `line ${e.line} (${e.name}): ${e.error}`).join('; ')}` : '');
    toast(msg, r.errors.length ? 'warn' : 'ok');
  } catch (e) { toast(e.message, 'error'); }
  await reload();
}
