// app.js - the console's shell: sign-in, the sidebar, and a page per hash
// route (#/dashboard, #/users, ...). Each page module exports
// render(root) and may return a function that stops its timers.
import { api, post, setUnauthorizedHandler } from './api.js';
import { h, toast } from './ui.js';

const PAGES = [
  ['dashboard', 'Dashboard', '◧'], ['users', 'Users', '☺'], ['rooms', 'Rooms', '#'],
  ['turn', 'TURN sessions', '⇄'], ['settings', 'Settings', '⚙'], ['certs', 'Certificates', '🔒'],
  ['backup', 'Backup', '⤓'], ['update', 'Update', '⇪'], ['logs', 'Logs', '≡'], ['audit', 'Audit log', '✎'], ['diag', 'Diagnostics', '⌁'],
];

let me = null;
let stopPage = null;
const app = document.getElementById('app');

setUnauthorizedHandler(() => { if (me) { me = null; toast('Your session ended. Please sign in again.', 'error'); showLogin(); } });

function showLogin(message) {
  if (stopPage) { stopPage(); stopPage = null; }
  const err = h('p', { class: 'login-error', id: 'login-error', role: 'alert' }, message || '');
  const name = h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true, autofocus: true });
  const pw = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  const form = h('form', { class: 'login-card', onsubmit: async (e) => {
    e.preventDefault();
    btn.disabled = true; err.textContent = '';
    try {
      const r = await post('/api/login', { name: name.value.trim(), password: pw.value });
      me = r.user;
      pw.value = '';
      start();
    } catch (x) {
      err.textContent = x.code === 'not_admin' ? 'This console is for administrators only.'
        : x.code === 'rate_limited' ? `Too many failed attempts. Try again in ${x.retryAfter || 'a few'} seconds.`
        : x.message;
      pw.select();
    } finally { btn.disabled = false; }
  } },
  h('div', { class: 'brand brand-login' }, h('span', { class: 'logo' }, 'lt'), h('div', {}, h('strong', {}, 'lanturn'), h('span', {}, 'Admin console'))),
  h('label', { class: 'field' }, h('span', {}, 'User name'), name),
  h('label', { class: 'field' }, h('span', {}, 'Password'), pw),
  err, btn,
  h('p', { class: 'muted small' }, 'Administrators only. Every action is recorded in the audit log.'));
  app.replaceChildren(h('main', { class: 'login-page' }, form));
  name.focus();
}

function shell() {
  const nav = h('nav', { class: 'nav', 'aria-label': 'Console' },
    ...PAGES.map(([id, label, icon]) => h('a', { href: `#/${id}`, class: 'nav-item', 'data-page': id }, h('span', { class: 'nav-icon', 'aria-hidden': 'true' }, icon), label)));
  const side = h('aside', { class: 'sidebar' },
    h('div', { class: 'brand' }, h('span', { class: 'logo' }, 'lt'), h('div', {}, h('strong', {}, 'lanturn'), h('span', {}, 'Admin console'))),
    nav,
    h('div', { class: 'whoami' },
      h('div', {}, h('div', { class: 'who-name', id: 'who-name' }, me.display_name || me.name), h('div', { class: 'muted small' }, `@${me.name}`)),
      h('button', { class: 'btn btn-small', id: 'logout', onclick: async () => {
        try { await post('/api/logout'); } catch { /* gone anyway */ }
        me = null; showLogin();
      } }, 'Sign out')));
  const main = h('main', { class: 'content', id: 'content' });
  app.replaceChildren(h('div', { class: 'layout' }, side, main));
}

async function route() {
  if (!me) return;
  const id = (location.hash.replace(/^#\//, '') || 'dashboard').split('?')[0];
  const page = PAGES.find(([p]) => p === id) ? id : 'dashboard';
  for (const a of document.querySelectorAll('.nav-item')) a.classList.toggle('active', a.dataset.page === page);
  if (stopPage) { stopPage(); stopPage = null; }
  const root = document.getElementById('content');
  root.replaceChildren(h('div', { class: 'loading' }, 'Loading…'));
  try {
    const mod = await import(`./pages/${page}.js`);
    root.replaceChildren();
    const stop = await mod.render(root);
    if (typeof stop === 'function') stopPage = stop;
  } catch (e) {
    root.replaceChildren(h('div', { class: 'notice notice-error' }, e.message));
  }
  document.title = `${PAGES.find(([p]) => p === page)[1]} · lanturn console`;
}

function start() {
  shell();
  route();
}

window.addEventListener('hashchange', route);

(async () => {
  try {
    me = (await api('/api/me')).user;
    start();
  } catch {
    showLogin();
  }
})();
