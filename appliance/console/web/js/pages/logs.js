// logs.js - recent log lines from applianced, filtered by service and level.
import { api } from '../api.js';
import { h, pageHeader, unavailable } from '../ui.js';

export async function render(root) {
  const service = h('select', { 'aria-label': 'Service' }, ...[['', 'All services'], ['applianced', 'applianced'], ['turnd', 'turnd'], ['signald', 'signald'], ['console', 'console']].map(([v, l]) => h('option', { value: v }, l)));
  const level = h('select', { 'aria-label': 'Level' }, ...[['', 'All levels'], ['error', 'Errors'], ['warn', 'Warnings and errors'], ['info', 'Info and above'], ['debug', 'Debug']].map(([v, l]) => h('option', { value: v }, l)));
  const body = h('div', { id: 'logs' });
  root.append(pageHeader('Logs', 'Recent log lines of the services.', h('button', { class: 'btn', onclick: () => load() }, 'Refresh')), h('div', { class: 'toolbar' }, service, level), body);
  async function load() {
    try {
      const q = new URLSearchParams({ limit: '500' });
      if (service.value) q.set('service', service.value);
      if (level.value) q.set('level', level.value);
      const d = await api(`/api/logs?${q}`);
      const lines = d.lines || [];
      body.replaceChildren(lines.length ? h('pre', { class: 'log-view' }, ...lines.map((l) => {
        // applianced sends {at (ms), service, text}
        const text = typeof l === 'string' ? l
          : `${new Date(l.at).toLocaleString()}  ${(l.service || '').padEnd(10)} ${l.text}`;
        const lv = (text.match(/level=(\w+)/) || [])[1];
        return h('div', { class: lv ? `log-${lv}` : '' }, text);
      })) : h('div', { class: 'empty' }, 'No log lines match.'));
    } catch (e) {
      body.replaceChildren(unavailable('Logs', e.message));
    }
  }
  service.addEventListener('change', load);
  level.addEventListener('change', load);
  await load();
}
