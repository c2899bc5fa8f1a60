// audit.js - every administrative action, newest first, a page at a time.
import { api } from '../api.js';
import { h, table, pageHeader, fmtTime, badge } from '../ui.js';

export async function render(root) {
  const body = h('div', { id: 'audit' });
  const more = h('button', { class: 'btn', hidden: true }, 'Older entries');
  root.append(pageHeader('Audit log', 'Who did what, from this console, appliancectl and the chat service.'), body, h('p', {}, more));
  let entries = [];
  async function load(before = 0) {
    const d = await api(`/api/audit${before ? `?before=${before}` : ''}`);
    entries = before ? entries.concat(d.entries) : d.entries;
    more.hidden = !d.more;
    body.replaceChildren(table([
      { label: 'When', render: (e) => fmtTime(e.at) },
      { label: 'Who', render: (e) => h('span', { class: 'strong' }, e.actor) },
      { label: 'Action', render: (e) => badge(e.action, e.action.includes('fail') || e.action.includes('refused') ? 'bad' : 'info') },
      { label: 'Target', render: (e) => e.target },
      { label: 'Detail', render: (e) => h('span', { class: 'muted' }, e.detail) },
    ], entries.map((e) => ({ ...e, key: e.id })), { empty: 'No entries yet.' }));
  }
  more.addEventListener('click', () => load(entries[entries.length - 1].id));
  await load();
}
