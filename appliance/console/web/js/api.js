// api.js - the console's HTTP API. Every request carries the header a
// cross-site page cannot send (the server refuses state changes without it).
export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export async function api(path, { method = 'GET', body, raw } = {}) {
  const headers = { 'X-Requested-With': 'lanturn-console' };
  let payload;
  if (raw !== undefined) { payload = raw; headers['Content-Type'] = 'application/octet-stream'; }
  else if (body !== undefined || method === 'POST') { payload = JSON.stringify(body || {}); headers['Content-Type'] = 'application/json'; }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', 'The console is not answering (is lanturn-console running?)');
  }
  let data = {};
  try { data = await res.json(); } catch { /* empty or not JSON */ }
  if (!res.ok || data.ok === false) {
    if (res.status === 401 && path !== '/api/login') onUnauthorized();
    const retry = res.headers.get('retry-after');
    const err = new ApiError(res.status, data.error || 'error', data.message || data.error || `HTTP ${res.status}`);
    if (retry) err.retryAfter = Number(retry);
    throw err;
  }
  return data;
}

export const post = (path, body) => api(path, { method: 'POST', body });
