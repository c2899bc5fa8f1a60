// app.js - starts the client: sign-in, the main layout, connection banner,
// notifications and calls.
import { h, clear, toast } from './dom.js';
import { t, onLang } from './i18n.js';
import * as api from './api.js';
import * as store from './store.js';
import * as notify from './notify.js';
import { renderLogin } from './views/login.js';
import { createSidebar } from './views/sidebar.js';
import { createRoomView } from './views/room.js';
import { createMembers } from './views/members.js';
import { newRoomDialog, newDirectDialog, inviteDialog, passwordDialog, settingsDialog } from './views/dialogs.js';
import { searchDialog } from './views/search.js';
import { confirmDialog } from './views/dialog.js';
import { createCallUI } from './views/callui.js';
import { createBroadcastUI } from './views/broadcastui.js';

const root = document.getElementById('app');
let ui = null;

async function boot() {
  if (!api.token()) return showLogin();
  try {
    const r = await api.me();
    startApp(r.user);
  } catch (e) {
    if (e.status === 401) { api.setToken(null); showLogin(); return; }
    // server unreachable: keep the token and retry
    clear(root).append(h('div.boot', h('p', { text: t('login.offline') })));
    setTimeout(boot, 3000);
  }
}

function showLogin() {
  ui = null;
  renderLogin(root, (user) => startApp(user));
}

function startApp(user) {
  store.state.me = user;
  const layout = h('div.shell');
  const banner = h('div.banner', { hidden: true, role: 'status', 'aria-live': 'polite' });
  const toggleMembers = () => layout.classList.toggle('show-members');
  const openSidebar = () => layout.classList.add('show-sidebar');
  const sidebar = createSidebar({
    onNewRoom: newRoomDialog, onNewDirect: newDirectDialog, onSettings: settingsDialog, onPassword: passwordDialog,
    onSearch: () => searchDialog({ onOpen }), onLogout: logout,
  });
  const calls = createCallUI({ onRoomsWithCalls: (ids) => sidebar.setCalls(ids) });
  const presentations = createBroadcastUI();
  const roomView = createRoomView({
    onMenu: openSidebar, onMembers: toggleMembers, onInvite: inviteDialog,
    onSearch: () => searchDialog({ onOpen }), onCall: (room, media) => calls.start(room, media),
    onPresent: (room) => presentations.present(room),
  });
  const members = createMembers({ onClose: toggleMembers });
  const scrim = h('div.scrim', { on: { click: () => layout.classList.remove('show-sidebar', 'show-members') } });
  layout.append(sidebar.el, roomView.el, members.el, scrim);
  clear(root).append(banner, layout, calls.el, presentations.el);
  const wide = window.matchMedia('(min-width: 1100px)');
  if (wide.matches) layout.classList.add('show-members');
  wide.addEventListener('change', () => layout.classList.toggle('show-members', wide.matches));

  async function onOpen(room, message) {
    store.select(room);
    await roomView.jump(message);
  }

  store.on('current', (id) => { layout.classList.remove('show-sidebar'); layout.classList.toggle('no-room', !id); });
  layout.classList.add('no-room');
  // 4001 closes: the session ended, unless the token still works (signald also
  // closes the WebSockets of the session that changed its password)
  store.on('unauthorized', async () => {
    try { await api.me(); store.conn.resume(); return; } catch (e) { if (e.status !== 401) { store.conn.resume(); return; } }
    store.stop(); api.setToken(null); location.reload();
  });
  store.on('error', (e) => toast(t('error', { msg: e.message }), 'error'));

  // connection banner: reconnecting / back
  let wasDown = false, countdown = null;
  store.on('conn', (d) => {
    clearInterval(countdown);
    if (d.state === 'open') {
      if (wasDown) { banner.className = 'banner ok'; banner.textContent = t('conn.back'); setTimeout(() => { if (store.state.connState === 'open') banner.hidden = true; }, 2000); }
      else banner.hidden = true;
      wasDown = false;
      return;
    }
    if (!wasDown && d.state === 'connecting') return; // first connect
    wasDown = true;
    banner.hidden = false;
    banner.className = 'banner warn';
    if (d.state === 'closed' && d.retryIn > 2500) {
      let left = Math.round(d.retryIn / 1000);
      const draw = () => {
        banner.replaceChildren(h('span', { text: t('conn.offline', { s: left }) }),
          h('button.link', { type: 'button', text: '↻', 'aria-label': 'retry', on: { click: () => store.conn.retryNow() } }));
      };
      draw();
      countdown = setInterval(() => { left = Math.max(0, left - 1); draw(); }, 1000);
    } else {
      banner.replaceChildren(h('span.spinner'), h('span', { text: t('conn.reconnecting') }));
    }
  });
  store.on('synced', ({ resync }) => { if (resync) toast(t('conn.resync')); });

  // desktop notification + chime for messages while the tab is hidden
  store.on('notify', (msg) => {
    const room = store.state.rooms.get(msg.room);
    const mentionsMe = (msg.mentions || []).includes(store.state.me.id);
    if (room && room.kind === 'group' && !mentionsMe && room.members.length > 30) return;
    notify.message({
      title: room ? `${store.userName(msg.sender)}${room.kind === 'group' ? ' · #' + store.roomTitle(room) : ''}` : store.userName(msg.sender),
      body: msg.deleted ? '' : (msg.files && msg.files.length && !msg.body ? msg.files[0].name : msg.body),
      tag: `room-${msg.room}`,
      onClick: () => store.select(msg.room),
    });
  });

  document.addEventListener('visibilitychange', onVisibility);
  function onVisibility() { if (ui === layout) store.setAway(document.hidden); }

  // keyboard: Alt+Up/Down switches rooms, Ctrl/Cmd+K searches
  document.addEventListener('keydown', onKeys);
  function onKeys(e) {
    if (ui !== layout) return;
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') { e.preventDefault(); searchDialog({ onOpen }); }
    if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
      const rooms = store.sortedRooms();
      const i = rooms.findIndex((r) => r.id === store.state.current);
      const next = rooms[(i + (e.key === 'ArrowDown' ? 1 : rooms.length - 1) + (i < 0 ? 1 : 0)) % rooms.length];
      if (next) { e.preventDefault(); store.select(next.id); }
    }
  }

  async function logout() {
    if (!await confirmDialog(`${t('logout')}?`, t('logout'))) return;
    calls.hangupAll();
    presentations.stop();
    try { await api.logout(); } catch { /* signed out locally anyway */ }
    store.stop();
    document.removeEventListener('visibilitychange', onVisibility);
    document.removeEventListener('keydown', onKeys);
    location.reload();
  }

  onLang(() => { if (ui === layout) location.reload(); });
  ui = layout;
  store.start(user);
}

boot();
