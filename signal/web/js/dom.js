// dom.js - building elements safely. User text only ever goes through
// textContent / attributes here; never innerHTML.

// h('div.cls#id', {attrs, on: {click}}, ...children)
export function h(tag, props, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const el = document.createElement(name || 'div');
  for (const r of rest) {
    if (r[0] === '.') el.classList.add(r.slice(1));
    else el.id = r.slice(1);
  }
  if (props && (typeof props !== 'object' || props instanceof Node || Array.isArray(props))) {
    children.unshift(props);
    props = null;
  }
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'style') el.style.cssText = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }

// Constant SVG markup from icons.js only (never user data).
export function svg(markup) {
  const t = document.createElement('template');
  t.innerHTML = markup;
  return t.content.firstElementChild;
}

const URL_RE = /\b(https?:\/\/[^\s<>"']+|www\.[^\s<>"']+)/gi;

// Text -> nodes with clickable links and highlighted @mentions.
export function richText(text, { mentionNames = [], me } = {}) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let url = m[0].replace(/[.,;:!?)\]]+$/, '');
    if (m.index > last) out.push(...mentions(text.slice(last, m.index), mentionNames, me));
    const href = url.startsWith('www.') ? 'https://' + url : url;
    out.push(h('a', { href, target: '_blank', rel: 'noopener noreferrer', text: url }));
    last = m.index + url.length;
  }
  if (last < text.length) out.push(...mentions(text.slice(last), mentionNames, me));
  return out;
}

function mentions(text, names, me) {
  if (!names.length) return [text];
  const out = [];
  const re = /@([A-Za-z0-9._-]+)/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (!names.includes(m[1])) continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h('span.mention' + (m[1] === me ? '.me' : ''), { text: m[0] }));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// snippet_html from the server is escaped with <mark>; rebuild it keeping only text and <mark>.
export function safeSnippet(html) {
  const t = document.createElement('template');
  t.innerHTML = html;
  const out = [];
  const walk = (node) => {
    for (const n of node.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) out.push(document.createTextNode(n.textContent));
      else if (n.nodeName === 'MARK') out.push(h('mark', { text: n.textContent }));
      else walk(n);
    }
  };
  walk(t.content);
  return out;
}

export function initials(name) {
  const parts = String(name || '?').trim().split(/[\s._-]+/).filter(Boolean);
  const s = parts.length > 1 ? [...parts[0]][0] + [...parts[1]][0] : [...(parts[0] || '?')][0];
  return s.toUpperCase();
}

export function colorFor(id) {
  const hues = [210, 262, 330, 14, 38, 160, 190, 290, 120, 350];
  return `hsl(${hues[Math.abs(Number(id) || 0) % hues.length]} 55% 46%)`;
}

export function avatar(user, size = 'md') {
  const name = user ? (user.display_name || user.name) : '?';
  return h(`span.avatar.${size}`, { style: `background:${colorFor(user && user.id)}`, 'aria-hidden': 'true',
    text: initials(name) });
}

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function fmtDuration(ms) {
  const s = Math.floor(ms / 1000);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const p = (x) => String(x).padStart(2, '0');
  return hh ? `${hh}:${p(mm)}:${p(ss)}` : `${p(mm)}:${p(ss)}`;
}

export function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

export function toast(text, kind = 'info', ms = 4000) {
  const box = document.getElementById('toasts');
  const el = h(`div.toast.${kind}`, { text });
  box.append(el);
  setTimeout(() => el.remove(), ms);
}
