// ui.js - small DOM helpers shared by the pages: element builder, toasts,
// dialogs, tables and number/time formatting.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function toast(message, kind = 'ok') {
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  document.getElementById('toasts').append(t);
  setTimeout(() => t.classList.add('gone'), kind === 'error' ? 7000 : 3500);
  setTimeout(() => t.remove(), kind === 'error' ? 7600 : 4100);
}

// A modal dialog with a form; resolves with the form's values or null.
export function dialog({ title, body, submit = 'Save', danger = false, fields = [] }) {
  return new Promise((resolve) => {
    const inputs = {};
    const form = h('form', { class: 'dialog-form' },
      body ? h('p', { class: 'muted' }, body) : null,
      ...fields.map((f) => {
        let input;
        if (f.type === 'select') input = h('select', { name: f.name }, ...f.options.map(([v, l]) => h('option', { value: v, selected: v === f.value }, l)));
        else if (f.type === 'checkbox') input = h('input', { type: 'checkbox', name: f.name, checked: !!f.value });
        else if (f.type === 'textarea') input = h('textarea', { name: f.name, rows: f.rows || 6, placeholder: f.placeholder || '' });
        else input = h('input', { type: f.type || 'text', name: f.name, value: f.value ?? '', placeholder: f.placeholder || '', required: f.required, autocomplete: f.autocomplete || 'off', minlength: f.minlength });
        if (f.type === 'textarea' && f.value) input.value = f.value;
        inputs[f.name] = input;
        return f.type === 'checkbox'
          ? h('label', { class: 'check' }, input, ' ', f.label)
          : h('label', { class: 'field' }, h('span', {}, f.label), input, f.help ? h('small', { class: 'muted' }, f.help) : null);
      }),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', onclick: () => close(null) }, 'Cancel'),
        h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary' }, submit)));
    const back = h('div', { class: 'modal-back', onclick: (e) => { if (e.target === back) close(null); } },
      h('div', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-label': title }, h('h2', {}, title), form));
    function close(v) { back.remove(); document.removeEventListener('keydown', esc); resolve(v); }
    function esc(e) { if (e.key === 'Escape') close(null); }
    document.addEventListener('keydown', esc);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = {};
      for (const [k, el] of Object.entries(inputs)) v[k] = el.type === 'checkbox' ? el.checked : el.type === 'file' ? el.files?.[0] || null : el.value;
      close(v);
    });
    document.body.append(back);
    (Object.values(inputs)[0] || form.querySelector('button[type=submit]')).focus();
  });
}

export const confirm = (title, body, submit = 'Confirm', danger = true) => dialog({ title, body, submit, danger }).then((v) => v !== null);

export function fmtBytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(n < 10 && i ? 1 : 0)} ${u[i]}`;
}

export function fmtRate(bps) { return bps === null || bps === undefined ? '—' : `${fmtBytes(bps)}/s`; }

export function fmtDuration(s) {
  if (s === null || s === undefined) return '—';
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${hh}h` : hh ? `${hh}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

export function fmtTime(ms) {
  if (!ms) return '—';
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function table(columns, rows, { empty = 'Nothing here yet.' } = {}) {
  if (!rows.length) return h('div', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { class: c.class }, c.label)))),
    h('tbody', {}, ...rows.map((r) => h('tr', { 'data-key': r.key ?? '' }, ...columns.map((c) => h('td', { class: c.class }, c.render(r))))))));
}

export function badge(text, kind = 'neutral') { return h('span', { class: `badge badge-${kind}` }, text); }

export function pageHeader(title, subtitle, ...actions) {
  return h('header', { class: 'page-head' },
    h('div', {}, h('h1', {}, title), subtitle ? h('p', { class: 'muted' }, subtitle) : null),
    h('div', { class: 'page-actions' }, ...actions));
}

export function unavailable(what, message) {
  return h('div', { class: 'notice notice-warn' }, h('strong', {}, `${what}: not available. `), message || '');
}

// Runs an action with its button disabled; errors become toasts.
export async function busy(btn, fn) {
  if (btn) btn.disabled = true;
  try { return await fn(); } catch (e) { toast(e.message, 'error'); return undefined; } finally { if (btn) btn.disabled = false; }
}
