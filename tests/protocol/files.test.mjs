// files.test.mjs - uploads and downloads through the real signald: streaming
// to the store, type sniffing, attachments, authorization, size limits and
// hostile names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Server, PORT_BASE } from './lib.mjs';

const srv = new Server('files', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1, config: 'file_max_mb = 1;' });
let alice, bob, carol, a, b, room;
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(4000)]);

before(async () => {
  await srv.start();
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => srv.login(u)));
  a = await srv.connect(alice);
  b = await srv.connect(bob);
  room = (await a.request('room.create', { name: 'files', members: [bob.user.id] })).room;
});

after(async () => {
  await a.close();
  await b.close();
  const r = await srv.stop();
  assert.equal(r.code, 0, srv.logText());
  srv.cleanup();
});

const upload = (token, body, query) =>
  srv.http('POST', `/api/files?${query}`, { token, body, headers: { 'content-type': 'application/octet-stream' } });

test('an image is stored under its SHA-256, typed by its bytes, and attached to a message', async () => {
  const up = await upload(alice.token, PNG, `room=${room.id}&name=holiday.png`);
  assert.equal(up.status, 201, up.body.toString());
  const f = up.json.file;
  assert.equal(f.id, createHash('sha256').update(PNG).digest('hex'));
  assert.equal(f.mime, 'image/png');
  assert.equal(f.size, PNG.length);
  assert.equal(f.name, 'holiday.png');
  const { message } = await a.request('message.send', { room: room.id, body: 'look', files: [f.id] });
  assert.equal(message.files[0].id, f.id);
  const ev = await b.next('message.new');
  assert.equal(ev.data.message.files[0].url, `/api/files/${f.id}`);

  const dl = await srv.http('GET', ev.data.message.files[0].url, { token: bob.token });
  assert.equal(dl.status, 200);
  assert.ok(dl.body.equals(PNG), 'the bytes come back unchanged');
  assert.equal(dl.headers['content-type'], 'image/png');
  assert.match(dl.headers['content-disposition'], /^inline; filename="holiday.png"/);
  assert.equal(dl.headers['x-content-type-options'], 'nosniff');
});

test('downloads need a session and membership; the login cookie works for <img>', async () => {
  const id = createHash('sha256').update(PNG).digest('hex');
  assert.equal((await srv.http('GET', `/api/files/${id}`)).status, 401);
  assert.equal((await srv.http('GET', `/api/files/${id}`, { token: carol.token })).status, 404);
  const login = await srv.http('POST', '/api/login', { body: { name: 'bob', password: 'correct horse battery' } });
  const cookie = login.headers['set-cookie'][0].split(';')[0];
  assert.match(cookie, /^lanturn_session=/);
  const viaCookie = await srv.http('GET', `/api/files/${id}`, { cookie });
  assert.equal(viaCookie.status, 200);
  assert.equal((await srv.http('GET', `/api/files/${'0'.repeat(64)}`, { token: bob.token })).status, 404);
  assert.equal((await srv.http('GET', '/api/files/../../data/lanturn.db', { token: bob.token })).status, 404);
  // uploads never accept the cookie: a form on another site cannot post files
  assert.equal((await srv.http('POST', `/api/files?room=${room.id}`, { cookie, body: 'x' })).status, 401);
});

test('other files are served as attachments, never as something a browser runs', async () => {
  const html = Buffer.from('<html><script>alert(1)</script></html>');
  const up = await upload(alice.token, html, `room=${room.id}&name=page.html`);
  assert.equal(up.status, 201);
  assert.equal(up.json.file.mime, 'application/octet-stream');
  const dl = await srv.http('GET', up.json.file.url, { token: alice.token });
  assert.equal(dl.headers['content-type'], 'application/octet-stream');
  assert.match(dl.headers['content-disposition'], /^attachment;/);
  assert.match(dl.headers['content-security-policy'], /sandbox/);
});

test('hostile names are reduced to a safe last component', async () => {
  const cases = [
    ['..%2F..%2Fetc%2Fpasswd', 'passwd'],
    ['C%3A%5Cwindows%5Cevil.exe', 'evil.exe'],
    ['..', 'file'],
    ['a%22b%0Ac.txt', /^ab(c\.txt)?$/], // quotes and control bytes never survive
    ['%E6%97%A5%E6%9C%AC.txt', '日本.txt'],
  ];
  for (const [raw, want] of cases) {
    const up = await upload(alice.token, randomBytes(16), `room=${room.id}&name=${raw}`);
    assert.equal(up.status, 201);
    if (want instanceof RegExp) assert.match(up.json.file.name, want, raw);
    else assert.equal(up.json.file.name, want, raw);
    const dl = await srv.http('GET', up.json.file.url, { token: alice.token });
    assert.ok(!/[\r\n]/.test(dl.headers['content-disposition']));
  }
});

test('too large, wrong room and not logged in are refused, and nothing is kept', async () => {
  const big = randomBytes((1 << 20) + 100);
  assert.equal((await upload(alice.token, big, `room=${room.id}&name=big.bin`)).status, 413);
  const id = createHash('sha256').update(big).digest('hex');
  assert.equal((await srv.http('GET', `/api/files/${id}`, { token: alice.token })).status, 404);
  const other = (await a.request('room.create', { name: 'private' })).room;
  assert.equal((await upload(bob.token, Buffer.from('x'), `room=${other.id}&name=x`)).status, 403);
  assert.equal((await upload(undefined, Buffer.from('x'), `room=${room.id}`)).status, 401);
  const within = randomBytes(900 * 1024);
  const ok = await upload(alice.token, within, `room=${room.id}&name=within.bin`);
  assert.equal(ok.status, 201);
  assert.equal(ok.json.file.id, createHash('sha256').update(within).digest('hex'));
});

test('an upload refused from its headers gets its answer, not a reset, however much body follows', async () => {
  // signald answers from the headers, then reads and drops the body before closing: closing at once
  // would reset the connection under a client still sending, which then never sees the answer.
  const big = randomBytes(4 << 20);
  for (let i = 0; i < 3; i++) {
    assert.equal((await upload(alice.token, big, `room=${room.id}&name=big.bin`)).status, 413);
    assert.equal((await upload(undefined, big, `room=${room.id}&name=big.bin`)).status, 401);
  }
  assert.equal((await upload(alice.token, Buffer.from('after'), `room=${room.id}&name=a.txt`)).status, 201);
});

test('a message cannot attach a file its sender cannot read', async () => {
  const mine = await upload(bob.token, Buffer.from('bob only'), 'name=secret.txt');
  assert.equal(mine.status, 201);
  await assert.rejects(a.request('message.send', { room: room.id, body: 'steal', files: [mine.json.file.id] }),
    { code: 'forbidden' });
  await assert.rejects(a.request('message.send', { room: room.id, body: 'x', files: ['nope'] }), { code: 'bad_request' });
});
