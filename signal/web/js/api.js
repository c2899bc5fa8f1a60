// api.js - the HTTPS API: login, logout, password, me, file upload.
const TOKEN_KEY = 'lanturn.token';

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message || code);
    this.status = status; this.code = code; this.retryAfter = retryAfter;
  }
}

export function token() { return localStorage.getItem(TOKEN_KEY); }
export function setToken(tok) {
  if (tok) localStorage.setItem(TOKEN_KEY, tok); else localStorage.removeItem(TOKEN_KEY);
}

async function call(method, path, body) {
  const headers = { 'content-type': 'application/json' };
  const tok = token();
  if (tok) headers.authorization = `Bearer ${tok}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined,
      credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  let json = {};
  try { json = await res.json(); } catch { /* empty */ }
  if (!res.ok) {
    const err = json.error || {};
    throw new ApiError(res.status, err.code || 'internal', err.message || res.statusText,
      Number(res.headers.get('retry-after')) || 0);
  }
  return json;
}

export async function login(name, password) {
  const r = await call('POST', '/api/login', { name, password });
  setToken(r.token);
  return r;
}
export async function logout() {
  try { await call('POST', '/api/logout', {}); } finally { setToken(null); }
}
export const me = () => call('GET', '/api/me');
export const changePassword = (oldPw, newPw) =>
  call('POST', '/api/password', { old_password: oldPw, new_password: newPw });

// Upload with progress (fetch has no upload progress). Returns {promise, abort}.
export function upload(room, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', `/api/files?room=${encodeURIComponent(room)}&name=${encodeURIComponent(file.name || 'file')}`);
    xhr.setRequestHeader('authorization', `Bearer ${token()}`);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let json = {};
      try { json = JSON.parse(xhr.responseText); } catch { /* empty */ }
      if (xhr.status === 201 || xhr.status === 200) resolve(json.file);
      else reject(new ApiError(xhr.status, (json.error || {}).code || 'internal', (json.error || {}).message || xhr.statusText));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'network error'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'aborted'));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}
