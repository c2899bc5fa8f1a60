// dashboard.js - services, live usage and this machine's health; refreshes
// every 3 s and draws CPU and relayed bandwidth on canvas charts.
import { api, post } from '../api.js';
import { LineChart } from '../chart.js';
import { h, fmtBytes, fmtDuration, fmtRate, pageHeader, busy, toast, confirm, badge } from '../ui.js';

const PERIOD = 3000;

export async function render(root) {
  const services = h('div', { class: 'grid grid-services', id: 'services' });
  const usage = h('div', { class: 'grid grid-stats', id: 'usage' });
  const system = h('div', { class: 'grid grid-stats', id: 'system' });
  const cpuCanvas = h('canvas', { class: 'chart', id: 'cpu-chart', 'aria-label': 'CPU use over time' });
  const bwCanvas = h('canvas', { class: 'chart', id: 'bw-chart', 'aria-label': 'Relayed bandwidth over time' });
  const bwNote = h('p', { class: 'muted small', id: 'bw-note' });
  const updated = h('span', { class: 'muted small', id: 'updated' });
  root.append(
    pageHeader('Dashboard', 'The appliance at a glance. Refreshes every 3 seconds.', updated),
    h('section', { class: 'section' }, h('h2', {}, 'Services'), services),
    h('section', { class: 'section' }, h('h2', {}, 'Usage'), usage),
    h('div', { class: 'two-col' },
      h('section', { class: 'card' }, h('h3', {}, 'Relayed bandwidth'), bwCanvas, bwNote),
      h('section', { class: 'card' }, h('h3', {}, 'CPU'), cpuCanvas)),
    h('section', { class: 'section' }, h('h2', {}, 'System'), system));
  const cpu = new LineChart(cpuCanvas, { series: [{ color: '#2563eb', fill: true }], fixedMax: 100, format: (v) => `${Math.round(v)} %` });
  const bw = new LineChart(bwCanvas, { series: [{ color: '#0d9488', fill: true }, { color: '#9333ea' }], format: (v) => fmtRate(v) });
  let prev = null, timer = null, stopped = false;

  async function tick() {
    try {
      const d = await api('/api/dashboard');
      drawServices(services, d);
      const rates = drawUsage(usage, d, prev);
      prev = { t: Date.now(), stats: d.stats };
      drawSystem(system, d.system);
      cpu.push([d.system.cpu_percent]);
      if (rates) { bw.push([rates.in, rates.out]); bwNote.textContent = 'Teal: in, purple: out.'; }
      else { bw.push([null, null]); bwNote.textContent = d.stats_error ? `Not available: ${d.stats_error}` : 'Collecting…'; }
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      updated.textContent = `Update failed: ${e.message}`;
    }
    if (!stopped) timer = setTimeout(tick, PERIOD);
  }
  await tick();
  const onResize = () => { cpu.draw(); bw.draw(); };
  window.addEventListener('resize', onResize);
  return () => { stopped = true; clearTimeout(timer); window.removeEventListener('resize', onResize); };
}

function drawServices(el, d) {
  if (!d.services) {
    el.replaceChildren(h('div', { class: 'notice notice-error' }, h('strong', {}, 'Service status not available. '), d.services_error || ''));
    return;
  }
  el.replaceChildren(...d.services.map((s) => {
    const up = s.state === 'running';
    const act = (what) => async (e) => {
      if (what !== 'start' && !await confirm(`${what[0].toUpperCase()}${what.slice(1)} ${s.name}?`, `Users connected to ${s.name} will be disconnected briefly.`, what[0].toUpperCase() + what.slice(1))) return;
      await busy(e.target, async () => { await post('/api/services/action', { service: s.name, action: what }); toast(`${s.name}: ${what} requested`); });
    };
    return h('div', { class: `card service ${up ? 'up' : 'down'}`, 'data-service': s.name },
      h('div', { class: 'service-head' }, h('span', { class: `dot ${up ? 'dot-up' : 'dot-down'}` }), h('strong', {}, s.name), badge(s.state, up ? 'ok' : 'bad')),
      h('dl', { class: 'kv' },
        h('dt', {}, 'Uptime'), h('dd', {}, up ? fmtDuration(s.uptime_s) : '—'),
        h('dt', {}, 'Restarts'), h('dd', {}, String(s.restarts)),
        h('dt', {}, 'PID'), h('dd', {}, s.pid ? String(s.pid) : '—'),
        s.last_exit ? [h('dt', {}, 'Last exit'), h('dd', {}, s.last_exit)] : null),
      h('div', { class: 'service-actions' },
        up ? h('button', { class: 'btn btn-small', onclick: act('restart') }, 'Restart') : h('button', { class: 'btn btn-small btn-primary', onclick: act('start') }, 'Start'),
        up ? h('button', { class: 'btn btn-small btn-ghost', onclick: act('stop') }, 'Stop') : null));
  }));
}

function stat(label, value, sub, id) {
  return h('div', { class: 'card stat', 'data-stat': id }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value), sub ? h('div', { class: 'stat-sub muted' }, sub) : null);
}

// Relayed bytes: a rate given by applianced, or one computed from counters.
function drawUsage(el, d, prev) {
  if (!d.stats) {
    el.replaceChildren(
      stat('Users online', 'n/a', 'not available', 'users_online'), stat('Active calls', 'n/a', 'not available', 'active_calls'),
      stat('TURN allocations', 'n/a', 'not available', 'turn_allocations'), stat('Relayed', 'n/a', 'not available', 'relayed'),
      h('p', { class: 'muted small span-all', id: 'stats-error' }, `Live usage is not available from applianced: ${d.stats_error || 'no answer'}.`));
    return null;
  }
  const s = d.stats;
  let rin = s.relayed_in_bps ?? null, rout = s.relayed_out_bps ?? null;
  if (rin === null && prev?.stats && s.relayed_bytes_in !== undefined) {
    const dt = (Date.now() - prev.t) / 1000;
    rin = Math.max(0, (s.relayed_bytes_in - prev.stats.relayed_bytes_in) / dt);
    rout = Math.max(0, (s.relayed_bytes_out - prev.stats.relayed_bytes_out) / dt);
  }
  const n = (v) => (v === undefined || v === null ? 'n/a' : String(v));
  el.replaceChildren(
    stat('Users online', n(s.users_online), s.connections !== undefined ? `${s.connections} connections` : null, 'users_online'),
    stat('Active calls', n(s.active_calls), null, 'active_calls'),
    stat('TURN allocations', n(s.turn_allocations), null, 'turn_allocations'),
    stat('Relayed in / out', rin === null ? '…' : `${fmtRate(rin)} / ${fmtRate(rout)}`, s.relayed_bytes_in !== undefined ? `${fmtBytes(s.relayed_bytes_in)} / ${fmtBytes(s.relayed_bytes_out)} total` : null, 'relayed'));
  return rin === null ? null : { in: rin, out: rout };
}

function meter(pct) {
  const bar = h('div', { class: 'meter-bar' });
  bar.style.width = `${Math.min(100, Math.max(0, pct)).toFixed(1)}%`;
  return h('div', { class: `meter ${pct > 90 ? 'meter-bad' : pct > 75 ? 'meter-warn' : ''}` }, bar);
}

function drawSystem(el, s) {
  const memPct = s.memory ? (100 * s.memory.used) / s.memory.total : 0;
  const diskPct = s.disk ? (100 * s.disk.used) / s.disk.total : 0;
  el.replaceChildren(
    h('div', { class: 'card stat', 'data-stat': 'cpu' }, h('div', { class: 'stat-label' }, 'CPU'), h('div', { class: 'stat-value' }, `${s.cpu_percent.toFixed(0)} %`), meter(s.cpu_percent), h('div', { class: 'stat-sub muted' }, `load ${s.load.map((x) => x.toFixed(2)).join(' ')}`)),
    h('div', { class: 'card stat', 'data-stat': 'memory' }, h('div', { class: 'stat-label' }, 'Memory'), h('div', { class: 'stat-value' }, s.memory ? fmtBytes(s.memory.used) : 'n/a'), meter(memPct), h('div', { class: 'stat-sub muted' }, s.memory ? `of ${fmtBytes(s.memory.total)}` : '')),
    h('div', { class: 'card stat', 'data-stat': 'disk' }, h('div', { class: 'stat-label' }, 'Disk (data)'), h('div', { class: 'stat-value' }, s.disk ? `${fmtBytes(s.disk.available)} free` : 'n/a'), meter(diskPct), h('div', { class: 'stat-sub muted' }, s.disk ? `${fmtBytes(s.disk.total)} · ${s.disk.path}` : '')),
    h('div', { class: 'card stat', 'data-stat': 'uptime' }, h('div', { class: 'stat-label' }, 'Host uptime'), h('div', { class: 'stat-value' }, fmtDuration(s.uptime_s)), h('div', { class: 'stat-sub muted' }, '')));
}
