// rooms.js - every room with its members; archive and unarchive.
import { api, post } from '../api.js';
import { h, table, badge, pageHeader, confirm, toast, busy, fmtTime } from '../ui.js';

export async function render(root) {
  const filter = h('input', { type: 'search', placeholder: 'Filter rooms…', 'aria-label': 'Filter rooms' });
  const list = h('div', { id: 'room-list' });
  const members = h('div', { id: 'room-members' });
  root.append(pageHeader('Rooms', 'Group rooms and direct conversations.'), h('div', { class: 'toolbar' }, filter), list, members);
  let rooms = [];
  async function load() { rooms = (await api('/api/rooms')).rooms; draw(); }
  function draw() {
    const q = filter.value.trim().toLowerCase();
    const shown = rooms.filter((r) => !q || (r.name || '').toLowerCase().includes(q) || (r.members || []).join(' ').includes(q));
    list.replaceChildren(table([
      { label: 'Room', render: (r) => h('div', {}, h('div', { class: 'strong' }, r.kind === 'direct' ? `${(r.members || []).join(' ↔ ')}` : `# ${r.name}`), r.topic ? h('div', { class: 'muted small' }, r.topic) : null) },
      { label: 'Kind', render: (r) => badge(r.kind === 'direct' ? 'Direct' : 'Group', r.kind === 'direct' ? 'neutral' : 'info') },
      { label: 'Members', render: (r) => String(r.member_count) },
      { label: 'Created', class: 'hide-narrow', render: (r) => `${fmtTime(r.created_at)}${r.created_by ? ` by ${r.created_by}` : ''}` },
      { label: 'Status', render: (r) => (r.archived ? badge('Archived', 'warn') : badge('Active', 'ok')) },
      { label: '', class: 'actions', render: (r) => h('div', { class: 'row-actions' },
        h('button', { class: 'btn btn-small', onclick: () => showMembers(r) }, 'Members'),
        h('button', { class: 'btn btn-small', onclick: async (e) => {
          if (!r.archived && !await confirm(`Archive ${r.name || 'this room'}?`, 'Members keep its history but cannot post in it.', 'Archive')) return;
          await busy(e.target, async () => { await post('/api/rooms/archive', { id: r.id, archived: !r.archived }); toast(r.archived ? 'Room unarchived' : 'Room archived'); await load(); });
        } }, r.archived ? 'Unarchive' : 'Archive')) },
    ], shown.map((r) => ({ ...r, key: r.id })), { empty: 'No rooms yet.' }));
  }
  async function showMembers(r) {
    const m = (await api(`/api/rooms/members?id=${r.id}`)).members;
    members.replaceChildren(h('section', { class: 'card section' }, h('h3', {}, `Members of ${r.name || 'the conversation'}`),
      table([{ label: 'Name', render: (u) => `${u.display_name} (@${u.name})` }, { label: 'Role', render: (u) => badge(u.role, u.role === 'member' ? 'neutral' : 'info') },
        { label: 'Joined', render: (u) => fmtTime(u.joined_at) }, { label: '', render: (u) => (u.disabled ? badge('Disabled', 'bad') : '') }], m)));
    members.scrollIntoView({ behavior: 'smooth' });
  }
  filter.addEventListener('input', draw);
  await load();
}
