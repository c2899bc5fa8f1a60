// views/login.js - the sign-in screen.
import { h, svg, clear } from '../dom.js';
import { I } from '../icons.js';
import { t, languages, getLang, setLang } from '../i18n.js';
import * as api from '../api.js';
import { unlock } from '../sound.js';

export function renderLogin(root, onDone) {
  const err = h('p.form-error', { role: 'alert' });
  const name = h('input', { id: 'login-name', name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false' });
  const pw = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button.btn.primary.block', { type: 'submit', text: t('login.submit') });
  const form = h('form.login-form', { on: { submit } },
    h('label', { for: 'login-name', text: t('login.name') }), name,
    h('label', { for: 'login-password', text: t('login.password') }), pw,
    err, btn);
  const langSel = h('select.lang', { 'aria-label': t('language'), on: { change: (e) => { setLang(e.target.value); renderLogin(root, onDone); } } },
    languages().map(([v, label]) => h('option', { value: v, selected: v === getLang(), text: label })));

  async function submit(e) {
    e.preventDefault();
    unlock();
    err.textContent = '';
    btn.disabled = true;
    btn.textContent = t('login.busy');
    try {
      const r = await api.login(name.value.trim(), pw.value);
      onDone(r.user);
    } catch (ex) {
      if (ex.status === 401) err.textContent = t('login.bad');
      else if (ex.status === 403) err.textContent = t('login.disabled');
      else if (ex.status === 429) err.textContent = t('login.wait', { s: ex.retryAfter || 1 });
      else if (ex.status === 0) err.textContent = t('login.offline');
      else err.textContent = t('login.failed', { msg: ex.message });
      pw.select();
    } finally {
      btn.disabled = false;
      btn.textContent = t('login.submit');
    }
  }

  clear(root).append(h('div.login-page',
    h('div.login-card',
      h('div.brand', svg(I.logo), h('span.brand-name', { text: 'lanturn' })),
      h('p.tagline', { text: t('app.tagline') }),
      h('h1', { text: t('login.title') }),
      form),
    h('div.login-foot', svg(I.globe), langSel)));
  name.focus();
}
