// notify.js - desktop notifications and sound when the tab is hidden.
import { chime } from './sound.js';
import { t } from './i18n.js';

const SOUND_KEY = 'lanturn.sound';
export const soundOn = () => localStorage.getItem(SOUND_KEY) !== 'off';
export const setSound = (on) => localStorage.setItem(SOUND_KEY, on ? 'on' : 'off');
export const supported = () => 'Notification' in window;
export const permission = () => (supported() ? Notification.permission : 'denied');

export async function ask() {
  if (!supported() || Notification.permission !== 'default') return permission();
  try { return await Notification.requestPermission(); } catch { return 'denied'; }
}

// Shown only when the page is hidden (or unfocused); click focuses the room.
export function message({ title, body, tag, onClick }) {
  if (!document.hidden && document.hasFocus()) return;
  if (soundOn()) chime();
  if (permission() !== 'granted') return;
  try {
    const n = new Notification(title || t('notify.new', { room: '' }), { body: body.slice(0, 200), tag, silent: true });
    n.onclick = () => { window.focus(); if (onClick) onClick(); n.close(); };
    setTimeout(() => n.close(), 8000);
  } catch { /* some platforms only allow notifications from a service worker */ }
}
