// settings.js - every group of the config file with help text; editing one
// setting is checked by applianced before it is saved, then the service restarts.
import { api, post } from '../api.js';
import { h, pageHeader, dialog, toast, badge } from '../ui.js';

export async function render(root) {
  const body = h('div', { id: 'settings' });
  root.append(pageHeader('Settings', 'The appliance\'s configuration file. Every change is checked before it is saved.'), body);
  async function load() {
    const d = await api('/api/settings');
    body.replaceChildren(h('p', { class: 'muted small' }, 'File: ', h('code', {}, d.path)),
      ...d.groups.map((g) => h('section', { class: 'card settings-group', 'data-group': g.name },
        h('h3', {}, g.title, ' ', h('code', { class: 'muted' }, g.name)), h('p', { class: 'muted small' }, g.help),
        ...g.settings.map((s) => h('div', { class: 'setting', 'data-key': `${g.name}.${s.key}` },
          h('div', {}, h('code', { class: 'strong' }, s.key), h('div', { class: 'muted small' }, s.help)),
          h('div', { class: `value mono ${s.set ? '' : 'unset'}` }, s.set ? show(s.value) : 'default'),
          s.editable ? h('div', { class: 'row-actions' },
            h('button', { class: 'btn btn-small', 'data-action': 'edit', onclick: () => edit(g, s, load) }, 'Edit'),
            s.set ? h('button', { class: 'btn btn-small btn-ghost', 'data-action': 'reset', onclick: () => save(g, s, { reset: true }, load) }, 'Default') : null)
            : badge('in file'))))));
  }
  await load();
}

function show(v) {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n');
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

async function edit(g, s, reload) {
  const field = { name: 'value', label: `${g.name}.${s.key}`, help: s.help };
  if (s.type === 'bool') Object.assign(field, { type: 'select', value: String(s.value ?? false), options: [['true', 'true'], ['false', 'false']] });
  else if (s.type === 'list') Object.assign(field, { type: 'textarea', rows: 4, value: (s.value || []).join('\n'), help: `${s.help} One per line.` });
  else if (s.type === 'int') Object.assign(field, { type: 'number', value: s.value ?? '' });
  else field.value = s.value ?? '';
  const v = await dialog({ title: `Edit ${s.key}`, submit: 'Check and save', fields: [field],
    body: g.service ? `Saving restarts ${g.service}.` : 'Applies at the next restart.' });
  if (v === null) return;
  let value = v.value;
  if (s.type === 'bool') value = value === 'true';
  else if (s.type === 'int') value = Number(value);
  else if (s.type === 'list') value = value.split('\n').map((x) => x.trim()).filter(Boolean);
  await save(g, s, { value }, reload);
}

async function save(g, s, change, reload) {
  try {
    const r = await post('/api/settings', { group: g.name, key: s.key, ...change });
    toast(`${g.name}.${s.key} saved${r.restarted ? `; ${r.restarted} restarted` : ''}${r.note ? `. ${r.note}` : ''}`, r.note && g.service ? 'warn' : 'ok');
  } catch (e) {
    toast(`Not saved: ${e.message}`, 'error');
  }
  await reload();
}
