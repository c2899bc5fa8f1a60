// diag.js - a STUN Binding self-test from the server to turnd, a TURN relay
// self-test (allocate, permission, a datagram there and back), and the page
// users open to check their own reachability.
import { post } from '../api.js';
import { h, pageHeader, busy, badge } from '../ui.js';

export async function render(root) {
  const results = h('ul', { class: 'result-list', id: 'stun-results' });
  const turnResults = h('ul', { class: 'result-list', id: 'turn-results' });
  const turnSummary = h('div', { id: 'turn-summary' });
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
      h('section', { class: 'card' }, h('h3', {}, 'TURN relay self-test'),
        h('p', { class: 'muted' }, 'Does what a caller who must relay does: allocates on turnd with a short-lived credential derived from the appliance\'s TURN secret, has a second socket of this server allocate as the peer, creates permissions, and relays a datagram there and back.'),
        h('button', { class: 'btn btn-primary', id: 'turn-run', onclick: (e) => busy(e.target, async () => {
          turnResults.replaceChildren(h('li', { class: 'muted' }, 'Testing…'));
          const d = await post('/api/diag/turn');
          turnSummary.replaceChildren(d.passed
            ? h('div', { class: 'notice notice-ok' }, `Passed against ${d.server} in ${d.total_ms} ms.`)
            : h('div', { class: 'notice notice-error', role: 'alert' }, `Failed against ${d.server || 'turnd'}: ${d.error}`));
          turnResults.replaceChildren(...d.steps.map((s) => h('li', { 'data-step': s.step },
            badge(s.ok ? 'OK' : 'FAIL', s.ok ? 'ok' : 'bad'), h('span', { class: 'strong' }, s.step),
            h('span', { class: 'muted' }, `${s.ms} ms · ${s.ok ? s.detail : s.error}`))));
        }) }, 'Run test'), turnSummary, turnResults),
      h('section', { class: 'card' }, h('h3', {}, 'For your users'),
        h('p', { class: 'muted' }, 'A page that explains which ports must be open between users and the appliance. Share its address with users who cannot make calls.'),
        h('a', { class: 'btn', href: '/reach.html', target: '_blank', rel: 'noopener' }, 'Open the reachability help page'))));
}
