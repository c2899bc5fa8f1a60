// turn.js - live TURN sessions from turnd (through applianced) with a kill button.
import { api, post } from '../api.js';
import { h, table, pageHeader, confirm, toast, busy, fmtRate, fmtBytes, fmtDuration, unavailable } from '../ui.js';

export async function render(root) {
  const body = h('div', { id: 'turn-sessions' });
  const refresh = h('button', { class: 'btn', onclick: () => load() }, 'Refresh');
  root.append(pageHeader('TURN sessions', 'Relays in use right now: who, from where, through which relay address.', refresh), body);
  // turnd reports byte totals per allocation; the rates are the change between two refreshes
  let prev = new Map(), prevAt = 0;
  async function load() {
    try {
      const d = await api('/api/turn/sessions');
      const now = Date.now(), dt = (now - prevAt) / 1000;
      const s = (d.sessions || []).map((x) => {
        const p = prev.get(x.id);
        const rate = (k) => (p && dt > 0 && x[k] !== undefined ? Math.max(0, (x[k] - p[k]) / dt) : null);
        return { ...x, rate_in_bps: x.rate_in_bps ?? rate('client_to_peer_bytes'), rate_out_bps: x.rate_out_bps ?? rate('peer_to_client_bytes') };
      });
      prev = new Map((d.sessions || []).map((x) => [x.id, x]));
      prevAt = now;
      body.replaceChildren(table([
        { label: 'User', render: (x) => (x.user_name
          ? h('div', {}, h('div', { class: 'strong' }, x.display_name || x.user_name), h('div', { class: 'muted small' }, `@${x.user_name}`))
          : h('span', { class: 'strong' }, x.user || x.username || '—')) },
        { label: 'Client', render: (x) => h('code', {}, `${x.client || '—'}${x.transport ? ` (${x.transport})` : ''}`) },
        { label: 'Relay', render: (x) => h('code', {}, (Array.isArray(x.relays) && x.relays.length ? x.relays.join(', ') : x.relay) || '—') },
        { label: 'Peers', render: (x) => (Array.isArray(x.peers) ? x.peers.join(', ') : String(x.peers ?? '—')) },
        { label: 'In / out', render: (x) => `${fmtRate(x.rate_in_bps ?? x.in_bps)} / ${fmtRate(x.rate_out_bps ?? x.out_bps)}` },
        { label: 'Relayed', render: (x) => (x.client_to_peer_bytes === undefined ? '—'
          : `${fmtBytes(x.client_to_peer_bytes)} / ${fmtBytes(x.peer_to_client_bytes)}`) },
        { label: 'Age', render: (x) => fmtDuration(x.age_s) },
        { label: '', class: 'actions', render: (x) => h('button', { class: 'btn btn-small btn-ghost-danger', onclick: async (e) => {
          if (!await confirm(`End ${x.user_name || x.user || 'this'} session?`, 'Its call loses media until the client allocates again.', 'Kill session')) return;
          await busy(e.target, async () => { await post('/api/turn/kill', { id: x.id }); toast('Session killed'); await load(); });
        } }, 'Kill') },
      ], s.map((x) => ({ ...x, key: x.id })), { empty: 'No TURN sessions right now.' }));
    } catch (e) {
      body.replaceChildren(unavailable('TURN sessions', e.message));
    }
  }
  await load();
  const t = setInterval(load, 5000);
  return () => clearInterval(t);
}
