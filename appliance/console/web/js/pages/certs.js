// certs.js - the installed certificate; upload a chain + key or make a new self-signed one.
import { api, post } from '../api.js';
import { h, pageHeader, toast, busy, badge, confirm } from '../ui.js';

export async function render(root) {
  const info = h('div', { id: 'cert-info' });
  const cert = h('textarea', { class: 'pem', id: 'cert-pem', placeholder: '-----BEGIN CERTIFICATE-----\n… the server certificate first, then intermediates …' });
  const key = h('textarea', { class: 'pem', id: 'key-pem', placeholder: '-----BEGIN PRIVATE KEY-----' });
  const certFile = h('input', { type: 'file', accept: '.pem,.crt,.cer' });
  const keyFile = h('input', { type: 'file', accept: '.pem,.key' });
  certFile.addEventListener('change', async () => { cert.value = await certFile.files[0].text(); });
  keyFile.addEventListener('change', async () => { key.value = await keyFile.files[0].text(); });
  const host = h('input', { id: 'selfsigned-host', placeholder: 'chat.example.internal' });
  root.append(pageHeader('Certificates', 'The HTTPS certificate of the chat service (also used by this console and TURN over TLS).'), info,
    h('div', { class: 'two-col' },
      h('section', { class: 'card' }, h('h3', {}, 'Install a certificate'),
        h('label', { class: 'field' }, h('span', {}, 'Certificate chain (PEM)'), cert, certFile),
        h('label', { class: 'field' }, h('span', {}, 'Private key (PEM, unencrypted)'), key, keyFile),
        h('button', { class: 'btn btn-primary', onclick: (e) => busy(e.target, async () => {
          const r = await post('/api/certs/upload', { cert: cert.value, key: key.value });
          key.value = ''; toast(r.note || 'Certificate installed'); await load();
        }) }, 'Check and install')),
      h('section', { class: 'card' }, h('h3', {}, 'Self-signed certificate'),
        h('p', { class: 'muted' }, 'Browsers warn about it until users trust it. Fine for closed networks with their own trust store.'),
        h('label', { class: 'field' }, h('span', {}, 'Host name'), host),
        h('button', { class: 'btn', onclick: (e) => busy(e.target, async () => {
          if (!await confirm('Replace the certificate?', 'The current certificate and key are replaced by a new self-signed pair.', 'Regenerate')) return;
          const r = await post('/api/certs/selfsigned', { hostname: host.value.trim() });
          toast(r.note || 'Certificate regenerated'); await load();
        }) }, 'Regenerate self-signed')))); 
  async function load() {
    const d = await api('/api/certs');
    const c = d.certificate;
    if (c && !host.value) host.value = (c.subject.match(/CN=([^/]+)/) || [])[1] || '';
    info.replaceChildren(h('section', { class: 'card section' }, h('h3', {}, 'Installed'),
      d.error ? h('div', { class: 'notice notice-error' }, d.error) : h('dl', { class: 'kv' },
        h('dt', {}, 'Subject'), h('dd', {}, c.subject), h('dt', {}, 'Issuer'), h('dd', {}, c.issuer, ' ', c.self_signed ? badge('self-signed', 'warn') : null),
        h('dt', {}, 'Names'), h('dd', {}, c.san.join(', ') || '—'),
        h('dt', {}, 'Valid'), h('dd', {}, `${c.not_before} → ${c.not_after} `, badge(`${c.days_left} days left`, c.days_left < 14 ? 'bad' : c.days_left < 45 ? 'warn' : 'ok')),
        h('dt', {}, 'SHA-256'), h('dd', { class: 'mono' }, c.sha256), h('dt', {}, 'Chain'), h('dd', {}, `${c.chain_length} certificate(s)`),
        h('dt', {}, 'Files'), h('dd', { class: 'mono' }, `${d.cert_path}, ${d.key_path}`))));
  }
  await load();
}
