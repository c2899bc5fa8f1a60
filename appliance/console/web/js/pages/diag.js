// diag.js - a STUN Binding self-test from the server to turnd, and the page
// users open to check their own reachability.
import { post } from '../api.js';
import { h, pageHeader, busy, badge } from '../ui.js';

export async function render(root) {
  const results = h('ul', { class: 'result-list', id: 'stun-results' });
  root.append(pageHeader('Network diagnostics', 'Can clients reach the TURN server?'),
    h('div', { class: 'two-col' },
      h('section', { class: 'card' }, h('h3', {}, 'STUN self-test'),
        h('p', { class: 'muted' }, 'Sends a STUN Binding request from this server to each of turnd\'s listen addresses over UDP and TCP.'),
        h('button', { class: 'btn btn-primary', id: 'stun-run', onclick: (e) => busy(e.target, async () => {
          results.replaceChildren(h('li', { class: 'muted' }, 'Testing…'));
          const d = await post('/api/diag/stun');
          results.replaceChildren(...d.results.map((r) => h('li', {},
            badge(r.ok ? 'OK' : 'FAIL', r.ok ? 'ok' : 'bad'), h('code', {}, `${r.transport.toUpperCase()} ${r.address}:${r.port}`),
            h('span', { class: 'muted' }, r.ok ? `${r.rtt_ms} ms · mapped ${r.mapped}${r.software ? ` · ${r.software}` : ''}` : r.error))));
        }) }, 'Run test'), results),
      h('section', { class: 'card' }, h('h3', {}, 'For your users'),
        h('p', { class: 'muted' }, 'A page that explains which ports must be open between users and the appliance. Share its address with users who cannot make calls.'),
        h('a', { class: 'btn', href: '/reach.html', target: '_blank', rel: 'noopener' }, 'Open the reachability help page'))));
}
