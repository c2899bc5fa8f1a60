// backup.js - download a consistent backup; restore one from a file.
import { api } from '../api.js';
import { h, pageHeader, confirm, toast, busy } from '../ui.js';

export async function render(root) {
  const file = h('input', { type: 'file', id: 'restore-file', accept: '.tar.gz,.tgz,application/gzip' });
  const status = h('p', { class: 'muted small', id: 'restore-status' });
  const restoreBtn = h('button', { class: 'btn btn-danger', id: 'restore', onclick: async (e) => {
    const f = file.files[0];
    if (!f) { toast('Choose a backup file first', 'error'); return; }
    if (!await confirm('Restore this backup?', `Everything in the database is replaced by ${f.name}. Messages and accounts made since that backup are lost.`, 'Restore')) return;
    await busy(e.target, async () => {
      status.textContent = `Uploading ${f.name}…`;
      const r = await api('/api/backup/restore', { method: 'POST', raw: f });
      status.textContent = r.note;
      toast('Backup restored');
    });
  } }, 'Restore…');
  root.append(pageHeader('Backup', 'Database, shared files and the configuration file in one .tar.gz.'),
    h('div', { class: 'two-col' },
      h('section', { class: 'card' }, h('h3', {}, 'Download a backup'),
        h('p', { class: 'muted' }, 'A consistent copy taken while the appliance keeps running. Keep it somewhere safe: it holds every message and file.'),
        h('a', { class: 'btn btn-primary', id: 'backup-download', href: '/api/backup/download', download: '' }, '⤓ Download backup')),
      h('section', { class: 'card' }, h('h3', {}, 'Restore'),
        h('p', { class: 'muted' }, 'Replaces the database and adds the backup\'s files. signald restarts; users reconnect by themselves.'),
        h('label', { class: 'field' }, h('span', {}, 'Backup file'), file), restoreBtn, status)));
}
