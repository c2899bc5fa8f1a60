// views/dialog.js - accessible modal dialogs (focus trap, Escape closes).
import { h, svg } from '../dom.js';
import { I } from '../icons.js';
import { t } from '../i18n.js';

export function modal(title, body, { actions = [], onClose, wide = false, className = '' } = {}) {
  const prev = document.activeElement;
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const close = () => {
    back.remove();
    document.removeEventListener('keydown', onKey, true);
    if (prev && prev.focus) prev.focus();
    if (onClose) onClose();
  };
  const box = h(`div.dialog${wide ? '.wide' : ''}${className ? '.' + className : ''}`, { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId },
    h('header.dialog-head', h('h2', { id: titleId, text: title }),
      h('button.icon-btn', { type: 'button', 'aria-label': t('close'), title: t('close'), on: { click: close } }, svg(I.x))),
    h('div.dialog-body', body),
    actions.length ? h('footer.dialog-foot', actions) : null);
  const back = h('div.backdrop', { on: { mousedown: (e) => { if (e.target === back) close(); } } }, box);
  function onKey(e) {
    if (e.key === 'Escape') { e.stopPropagation(); close(); }
    if (e.key === 'Tab') {
      const f = [...box.querySelectorAll('button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])')]
        .filter((x) => !x.disabled && x.offsetParent !== null);
      if (!f.length) return;
      if (e.shiftKey && document.activeElement === f[0]) { e.preventDefault(); f[f.length - 1].focus(); }
      else if (!e.shiftKey && document.activeElement === f[f.length - 1]) { e.preventDefault(); f[0].focus(); }
    }
  }
  document.addEventListener('keydown', onKey, true);
  document.body.append(back);
  const first = box.querySelector('input, textarea, select') || box.querySelector('.dialog-foot button.primary') || box.querySelector('button');
  if (first) setTimeout(() => first.focus(), 0);
  return { close, box };
}

export function confirmDialog(text, okLabel, { danger = false } = {}) {
  return new Promise((resolve) => {
    let result = false;
    const ok = h(`button.btn.${danger ? 'danger' : 'primary'}`, { type: 'button', text: okLabel, on: { click: () => { result = true; d.close(); } } });
    const cancel = h('button.btn', { type: 'button', text: t('cancel'), on: { click: () => d.close() } });
    const d = modal(okLabel, h('p', { text }), { actions: [cancel, ok], onClose: () => resolve(result) });
    setTimeout(() => ok.focus(), 0);
  });
}

// A searchable list of people with checkboxes (or single pick).
export function peoplePicker(users, { multi = true, onPick } = {}) {
  const chosen = new Set();
  const list = h('ul.people-list', { role: 'listbox', 'aria-multiselectable': String(multi) });
  const filter = h('input.filter', { type: 'search', placeholder: t('filter'), 'aria-label': t('filter'),
    on: { input: draw } });
  function draw() {
    const q = filter.value.trim().toLowerCase();
    list.replaceChildren(...users.filter((u) => !q || u.name.toLowerCase().includes(q) ||
      (u.display_name || '').toLowerCase().includes(q)).slice(0, 200).map((u) => {
      const sel = chosen.has(u.id);
      return h(`li.person${sel ? '.selected' : ''}`, { role: 'option', tabindex: '0', 'aria-selected': String(sel), 'data-user': u.name,
        on: { click: () => toggle(u), keydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(u); } } } },
      u.__avatar ? u.__avatar() : null,
      h('span.person-name', { text: u.display_name || u.name }), h('span.person-handle', { text: '@' + u.name }),
      multi ? h('span.check', { 'aria-hidden': 'true' }, sel ? svg(I.check) : null) : null);
    }));
  }
  function toggle(u) {
    if (!multi) { onPick(u); return; }
    if (chosen.has(u.id)) chosen.delete(u.id); else chosen.add(u.id);
    const focused = document.activeElement && document.activeElement.dataset.user;
    draw();
    if (focused) { const el = list.querySelector(`[data-user="${CSS.escape(focused)}"]`); if (el) el.focus(); }
  }
  draw();
  return { el: h('div.picker', filter, list), chosen };
}
