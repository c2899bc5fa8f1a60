// views/search.js - message search with highlighted snippets.
import { h, safeSnippet, debounce, avatar } from '../dom.js';
import { t, fmtDay, fmtTime } from '../i18n.js';
import * as store from '../store.js';
import { modal } from './dialog.js';

export function searchDialog({ onOpen }) {
  const input = h('input.search-input', { type: 'search', id: 'search-input', placeholder: t('search.placeholder'), 'aria-label': t('search') });
  const results = h('ul.search-results', { 'aria-live': 'polite' });
  const more = h('button.btn.block', { type: 'button', hidden: true, text: t('search.more') });
  let last = null, query = '';

  async function run(append = false) {
    const q = input.value.trim();
    if (!append) { query = q; last = null; results.replaceChildren(); more.hidden = true; }
    if (!q) return;
    try {
      const r = await store.search(query, append ? last : undefined);
      if (query !== q && !append) return;
      if (!r.hits.length && !append) results.append(h('li.none', { text: t('search.none', { q }) }));
      for (const hit of r.hits) {
        const room = store.state.rooms.get(hit.room);
        const sender = store.state.users.get(hit.sender) || { id: hit.sender, name: `#${hit.sender}` };
        results.append(h('li', h('button.hit', { type: 'button', on: { click: () => { d.close(); onOpen(hit.room, hit.message); } } },
          avatar(sender, 'sm'),
          h('span.hit-main',
            h('span.hit-meta', h('strong', { text: sender.display_name || sender.name }),
              h('span', { text: ` · ${room ? (room.kind === 'direct' ? '' : '#') + store.roomTitle(room) : ''} · ${fmtDay(hit.created_at)} ${fmtTime(hit.created_at)}` })),
            h('span.snippet', safeSnippet(hit.snippet_html))))));
      }
      last = r.hits.length ? r.hits[r.hits.length - 1].message : last;
      more.hidden = !r.more;
    } catch (e) {
      results.replaceChildren(h('li.none', { text: t('error', { msg: e.message }) }));
    }
  }
  input.addEventListener('input', debounce(() => run(false), 250));
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') run(false); });
  more.addEventListener('click', () => run(true));
  const d = modal(t('search'), h('div.search', input, results, more), { wide: true, className: 'search-dialog' });
}
