// update.js - the running version and slot, what the other slot holds, an
// update bundle uploaded and installed into the other slot (RAUC checks its
// signature), and the restart into it. The upload goes through XMLHttpRequest
// for its progress events; the install is followed by polling the status.
import { api, post, ApiError } from '../api.js';
import { h, pageHeader, confirm, toast, busy, badge, fmtBytes, fmtDuration, fmtTime } from '../ui.js';

// POST the file as the request body; resolves with the JSON reply.
function upload(file, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', `/api/update/upload?name=${encodeURIComponent(file.name)}`);
    x.setRequestHeader('X-Requested-With', 'lanturn-console');
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    x.onload = () => {
      let d = {};
      try { d = JSON.parse(x.responseText); } catch { /* not JSON */ }
      if (x.status >= 200 && x.status < 300 && d.ok !== false) resolve(d);
      else reject(new ApiError(x.status, d.error || 'error', d.message || `HTTP ${x.status}`));
    };
    x.onerror = () => reject(new ApiError(0, 'network', 'The upload was interrupted (connection lost).'));
    x.send(file);
  });
}

function kv(pairs) {
  return h('dl', { class: 'kv' }, ...pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .flatMap(([k, v, id]) => [h('dt', {}, k), h('dd', id ? { id } : {}, v)]));
}

export async function render(root) {
  const slots = h('div', { class: 'two-col', id: 'update-slots' });
  const notice = h('div', { id: 'update-notice' });
  const state = h('div', { id: 'update-state', role: 'status', 'aria-live': 'polite' });
  const file = h('input', { type: 'file', id: 'update-file', accept: '.raucb' });
  const bar = h('div', { class: 'meter-bar' }); // width set through CSSOM: the CSP forbids style attributes
  const meter = h('div', { class: 'meter', hidden: true }, bar);
  const restart = h('button', { class: 'btn btn-danger', id: 'update-restart', hidden: true, onclick: async (e) => {
    if (!await confirm('Restart into the new version?', 'Calls and chats are interrupted for about a minute while the appliance restarts. If the new version fails to start, the appliance goes back to the current one by itself.', 'Restart now')) return;
    await busy(e.target, async () => {
      const r = await post('/api/update/restart');
      state.replaceChildren(h('div', { class: 'notice notice-ok' }, r.note));
      waitForReturn();
    });
  } }, '⟳ Restart into the new version');
  const install = h('button', { class: 'btn btn-primary', id: 'update-install', onclick: (e) => start(e.target) }, 'Upload and install…');
  let timer = null, maxBytes = 0;

  root.append(pageHeader('Update', 'Signed updates install into the other system slot; the running one stays untouched until you restart.'),
    notice, slots,
    h('section', { class: 'card' }, h('h3', {}, 'Install an update'),
      h('p', { class: 'muted' }, 'Choose the update bundle (.raucb) from your vendor. The appliance checks its signature, that it is made for this model, and that it is intact before anything is written.'),
      h('label', { class: 'field' }, h('span', {}, 'Update bundle'), file),
      h('div', { class: 'toolbar' }, install, restart), meter, state));

  function showInstall(i) {
    if (!i || i.state === 'idle') { state.replaceChildren(); return; }
    const took = fmtDuration(Math.round((i.elapsed_ms || 0) / 1000));
    if (i.state === 'installing') {
      state.replaceChildren(h('div', { class: 'notice notice-warn' },
        h('strong', {}, 'Installing '), h('code', {}, i.name), ` (${fmtBytes(i.bytes)}), started by ${i.by}: checking the signature and writing the other slot… ${took}`));
    } else if (i.state === 'installed') {
      state.replaceChildren(h('div', { class: 'notice notice-ok', id: 'update-result' },
        h('strong', {}, 'Installed. '), `Version ${i.version || '?'} is in slot ${i.slot || '?'} (${took}). `, i.message));
    } else {
      state.replaceChildren(h('div', { class: 'notice notice-error', id: 'update-result', role: 'alert' },
        h('strong', {}, 'Not installed: '), i.message, h('div', { class: 'muted small' }, `${i.name} · ${fmtBytes(i.bytes)} · nothing was changed; the appliance keeps running its current version.`)));
    }
  }

  async function load() {
    const d = await api('/api/update/status');
    maxBytes = d.max_bytes;
    const run = d.running || {}, other = d.other || {};
    slots.replaceChildren(
      h('section', { class: 'card' }, h('h3', {}, 'Running now'),
        kv([['Version', run.version, 'update-running-version'], ['Slot', run.slot, 'update-running-slot'],
          ['Boot status', run.boot_status], ['Model', d.compatible]])),
      h('section', { class: 'card' }, h('h3', {}, 'Other slot'),
        d.available && other.slot
          ? kv([['Slot', other.slot, 'update-other-slot'], ['Version', other.version || 'empty', 'update-other-version'],
            ['State', other.boot_status ? badge(other.boot_status, other.boot_status === 'good' ? 'ok' : 'warn') : null],
            ['Installed', other.installed ? fmtTime(Date.parse(other.installed)) : null],
            ['Next boot', d.next_boot]])
          : h('p', { class: 'muted' }, 'Not known on this system.')));
    notice.replaceChildren(d.available ? ''
      : h('div', { class: 'notice notice-warn', id: 'update-unavailable' },
        h('strong', {}, 'Updates cannot be installed on this system. '), d.reason || '',
        h('div', { class: 'muted small' }, 'Signed A/B updates work on the lanturn appliance image, where RAUC manages the system slots. On other installations update the package instead.')));
    restart.hidden = !(d.restart_pending || d.install?.state === 'installed');
    showInstall(d.install);
    clearTimeout(timer);
    if (d.install?.state === 'installing') timer = setTimeout(() => load().catch(() => {}), 1000);
    return d;
  }

  async function start(btn) {
    const f = file.files[0];
    if (!f) { toast('Choose an update bundle first', 'error'); return; }
    if (maxBytes && f.size > maxBytes) { toast(`The file is larger than ${fmtBytes(maxBytes)}: not an update bundle`, 'error'); return; }
    if (!await confirm('Install this update?', `${f.name} (${fmtBytes(f.size)}) is written to the other slot. The appliance keeps running; the new version starts when you restart.`, 'Install', false)) return;
    btn.disabled = true;
    meter.hidden = false;
    bar.style.width = '0%';
    state.replaceChildren(h('p', { class: 'muted' }, `Uploading ${f.name}…`));
    try {
      const r = await upload(f, (done, total) => {
        bar.style.width = `${Math.round((done / total) * 100)}%`;
        state.replaceChildren(h('p', { class: 'muted' }, `Uploading ${f.name}: ${fmtBytes(done)} of ${fmtBytes(total)}`));
      });
      showInstall(r.install);
      await load();
    } catch (e) {
      state.replaceChildren(h('div', { class: 'notice notice-error', id: 'update-result', role: 'alert' },
        h('strong', {}, 'Not installed: '), e.message));
    } finally {
      btn.disabled = false;
      meter.hidden = true;
    }
  }

  // After the restart: poll until the console answers again, then reload.
  function waitForReturn() {
    let seenDown = false;
    const t = setInterval(async () => {
      try {
        await fetch('/healthz', { cache: 'no-store' });
        if (seenDown) { clearInterval(t); location.reload(); }
      } catch { seenDown = true; }
    }, 3000);
  }

  await load();
  return () => clearTimeout(timer);
}
