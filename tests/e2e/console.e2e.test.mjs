// console.e2e.test.mjs - an administrator uses lanturn-console in headless
// Chromium against a real applianced (with turnd and signald): sign in (a
// wrong password is refused on the page), the dashboard shows both services
// running, create a user and find them in the list, change a setting (saved
// in the config file after applianced checked it), and download a backup.
// Then: the Update page names the running version and refuses a file that is
// no bundle; Diagnostics runs the TURN relay self-test; the new user signs in to the chat client in a second browser,
// shows as online, takes a TURN allocation that the administrator sees and
// kills; a dual-stack allocation shows both relayed addresses; and hostile display and room names render as text on the users,
// rooms, TURN and audit pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { ROOT, TURND, SIGNALD, launch, login, shot, haveChromium, sleep } from './lib.mjs';

const CONSOLE = process.env.CONSOLE || join(ROOT, 'build/appliance/console/lanturn-console');
const APPLIANCED = process.env.APPLIANCED || join(ROOT, 'build/appliance/applianced');
const TURN_PROBE = process.env.TURN_PROBE || join(ROOT, 'build/tools/turn-probe');
const BASE = Number(process.env.LANTURN_PORT_BASE || 26600);
const ADMIN_PW = 'console admin password';
const skip = (!haveChromium() && 'chromium is not installed') || (!existsSync(CONSOLE) && 'lanturn-console is not built');

let dir, procs = [], B, url, log = [], clientUrl;
const clients = [];

function run(name, argv) {
  const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.on('data', (d) => log.push(`[${name}] ${d}`));
  p.stderr.on('data', (d) => log.push(`[${name}] ${d}`));
  procs.push(p);
  return p;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'lanturn-e2e-console-'));
  mkdirSync(join(dir, 'tls'));
  writeFileSync(join(dir, 'admin-pw'), `${ADMIN_PW}\n`);
  const sock = join(dir, 'ctl.sock');
  writeFileSync(join(dir, 'lanturn.conf'), `
appliance: { control_socket = "${sock}"; turnd = "${TURND}"; signald = "${SIGNALD}"; console = "${CONSOLE}";
             hostname = "localhost"; state_dir = "${dir}"; admin_password_file = "${dir}/admin-pw"; };
turnd: { listen = ["127.0.0.1:${BASE}"]; relay_ip = ["127.0.0.1", "::1"]; relay_ports = "${BASE + 100}-${BASE + 150}";
         secret_file = "${dir}/turn-secret"; control_socket = "${dir}/turnd.sock"; };
signal: { data_dir = "${dir}/data"; listen = "127.0.0.1:${BASE + 1}"; ws_listen = "127.0.0.1:${BASE + 2}";
          tls_cert = "${dir}/tls/cert.pem"; tls_key = "${dir}/tls/key.pem"; web_root = "${join(ROOT, 'signal/web')}";
          turn_urls = ["turn:127.0.0.1:${BASE}?transport=udp"]; turn_secret_file = "${dir}/turn-secret";
          password_scrypt_n = 16384; control_socket = "${dir}/signald.sock"; };
console: { listen = "127.0.0.1:${BASE + 3}"; web_root = "${join(ROOT, 'appliance/console/web')}"; applianced = "${APPLIANCED}"; };
`);
  run('applianced', [APPLIANCED, '--config', join(dir, 'lanturn.conf')]);
  for (let i = 0; i < 100 && !(existsSync(sock) && existsSync(join(dir, 'tls/cert.pem'))); i++) await sleep(100);
  // applianced starts and supervises the console (appliance.console)
  url = `https://127.0.0.1:${BASE + 3}/`;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${url}healthz`)).ok) break; } catch { /* not yet */ }
    await sleep(100);
  }
  B = await launch('console-admin');
  clientUrl = `https://127.0.0.1:${BASE + 1}/`;
});

after(async () => {
  for (const c of clients) await c.close();
  await B?.close();
  for (const p of procs.reverse()) if (p.exitCode === null) p.kill('SIGTERM');
  for (const p of procs) if (p.exitCode === null) await Promise.race([new Promise((r) => p.once('exit', r)), sleep(5000)]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('an administrator signs in, sees the services, creates a user, changes a setting and downloads a backup', { skip, timeout: 120000 }, async () => {
  const page = B.page;
  try {
    await page.goto(url);
    await page.waitForSelector('#login-name');
    await page.fill('#login-name', 'admin');
    await page.fill('#login-password', 'not the password');
    await page.click('button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#login-error')?.textContent.includes('wrong name or password'));
    await shot(page, 'console-login');
    await page.fill('#login-password', ADMIN_PW);
    await page.click('button[type=submit]');
    await page.waitForSelector('.sidebar');

    // dashboard: both services running, the charts drawn
    await page.waitForSelector('[data-service=turnd] .badge-ok');
    await page.waitForSelector('[data-service=signald] .badge-ok');
    assert.equal(await page.locator('canvas#cpu-chart').count(), 1);
    await page.waitForSelector('[data-stat=memory] .stat-value');
    await shot(page, 'console-dashboard');

    // users: create one, see them in the list, find them by search
    await page.click('a[data-page=users]');
    await page.click('#user-create');
    await page.fill('.modal input[name=name]', 'dana');
    await page.fill('.modal input[name=display_name]', 'Dana Scully');
    await page.fill('.modal input[name=password]', 'dana password 1');
    await page.click('.modal button[type=submit]');
    const row = page.locator('tr[data-key=dana]');
    await row.waitFor();
    assert.match(await row.textContent(), /Dana Scully/);
    assert.match(await row.textContent(), /Active/);
    await page.fill('#user-search', 'scul');
    await page.waitForFunction(() => document.querySelectorAll('#user-list tbody tr').length === 1);
    await shot(page, 'console-users');

    // settings: change signal.file_max_mb; applianced checks it, the file has it
    await page.click('a[data-page=settings]');
    const setting = page.locator('[data-key="signal.file_max_mb"]');
    await setting.locator('button[data-action=edit]').click();
    await page.fill('.modal input[name=value]', '42');
    await page.click('.modal button[type=submit]');
    await page.waitForFunction(() => document.querySelector('[data-key="signal.file_max_mb"] .value')?.textContent === '42', null, { timeout: 20000 });
    assert.match(readFileSync(join(dir, 'lanturn.conf'), 'utf8'), /file_max_mb = 42;/);
    await shot(page, 'console-settings');

    // backup: the download is a tar.gz holding the database
    await page.click('a[data-page=backup]');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.click('#backup-download')]);
    assert.match(download.suggestedFilename(), /^lanturn-backup-\d{8}-\d{6}\.tar\.gz$/);
    const saved = join(dir, 'backup.tar.gz');
    await download.saveAs(saved);
    const list = execFileSync('tar', ['tzf', saved], { encoding: 'utf8' }).split('\n');
    assert.ok(list.includes('lanturn.db') && list.includes('lanturn.conf'), list.join(' '));
    await shot(page, 'console-backup');

    // the audit log shows what was done
    await page.click('a[data-page=audit]');
    await page.waitForSelector('#audit tbody tr');
    const audit = await page.locator('#audit').textContent();
    for (const a of ['console.login', 'user.create', 'settings.change', 'backup.download']) assert.ok(audit.includes(a), `audit lacks ${a}`);
    assert.deepEqual(page.errors, []);
  } catch (e) {
    await shot(page, 'console-failure').catch(() => {});
    console.error(await page.locator('#content').textContent().catch(() => ''));
    console.error(log.join(''));
    throw e;
  }
});

// One request on turnd's control socket (line-delimited JSON).
function turndControl(req) {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(join(dir, 'turnd.sock'));
    let buf = '';
    c.on('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('data', (d) => { buf += d; if (buf.includes('\n')) { c.end(); resolve(JSON.parse(buf)); } });
    c.on('error', reject);
  });
}

// A chat client signed in as name in a browser of its own.
async function client(name, password) {
  const C = await launch(`client-${name}`);
  clients.push(C);
  await login(C.page, clientUrl, name, password);
  return C.page;
}

// The client takes a TURN allocation the way a call does: credentials from
// signald, a relay-only RTCPeerConnection; resolves with its relay candidate.
function allocate(page) {
  return page.evaluate(async () => {
    const store = await import('/js/store.js');
    const c = await store.request('turn.credentials');
    const pc = new RTCPeerConnection({ iceServers: c.iceServers, iceTransportPolicy: 'relay' });
    window.__pcs = [...(window.__pcs || []), pc]; // kept alive: the allocation lives as long as it
    pc.createDataChannel('probe');
    const relay = new Promise((resolve) => pc.addEventListener('icecandidate', (e) => {
      if (e.candidate && / typ relay /.test(e.candidate.candidate)) resolve(e.candidate.candidate);
    }));
    await pc.setLocalDescription(await pc.createOffer());
    return Promise.race([relay, new Promise((_, reject) => setTimeout(() => reject(new Error('no relay candidate in 15 s')), 15000))]);
  });
}

async function guarded(page, name, fn) {
  try {
    await fn();
  } catch (e) {
    await shot(page, `${name}-failure`).catch(() => {});
    console.error(await page.locator('#content').textContent().catch(() => ''));
    console.error(log.join(''));
    throw e;
  }
}

test('the Update page names the running version and refuses a file that is not an update bundle', { skip, timeout: 60000 }, async () => {
  const page = B.page;
  await guarded(page, 'console-update', async () => {
    await page.click('a[data-page=update]');
    const version = page.locator('#update-running-version');
    await version.waitFor();
    assert.match(await version.textContent(), /\d+\.\d+/);
    // no RAUC service on a build machine: the page says so instead of failing later
    assert.match(await page.locator('#update-unavailable').textContent(), /not available on this system/);
    await page.setInputFiles('#update-file', { name: 'lanturn-9.9.raucb', mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(64 * 1024, 'not a bundle ') });
    await page.click('#update-install');
    await page.click('.modal button[type=submit]');
    const result = page.locator('#update-result');
    await result.waitFor({ timeout: 20000 });
    assert.match(await result.textContent(), /Not installed: this file is not a lanturn update bundle/);
    await shot(page, 'console-update');
    assert.deepEqual(page.errors, []);
  });
});

test('Diagnostics runs the TURN relay self-test and shows each step', { skip, timeout: 60000 }, async () => {
  const page = B.page;
  await guarded(page, 'console-diag', async () => {
    await page.click('a[data-page=diag]');
    await page.click('#turn-run');
    await page.locator('#turn-summary', { hasText: 'Passed against 127.0.0.1:' }).waitFor({ timeout: 20000 });
    const steps = await page.locator('#turn-results li').evaluateAll((li) => li.map((x) => `${x.dataset.step}:${x.querySelector('.badge').textContent}`));
    assert.deepEqual(steps, ['allocate:OK', 'peer allocation:OK', 'permission:OK', 'relay to peer:OK', 'relay back:OK', 'release:OK']);
    await shot(page, 'console-diag');
    assert.deepEqual(page.errors, []);
  });
});

test('a user signed in to the client is online; the administrator sees their TURN session and kills it', { skip, timeout: 90000 }, async () => {
  const page = B.page;
  await guarded(page, 'console-turn', async () => {
    await page.click('a[data-page=dashboard]');
    await page.waitForSelector('[data-stat=users_online] .stat-value');
    const online = async () => Number(await page.locator('[data-stat=users_online] .stat-value').textContent());
    assert.equal(await online(), 0, 'nobody is in the chat client yet');
    const dana = await client('dana', 'dana password 1');
    await page.waitForFunction(() => document.querySelector('[data-stat=users_online] .stat-value')?.textContent === '1', null, { timeout: 20000 });

    const candidate = await allocate(dana);
    const relay = candidate.match(/ (\d+\.\d+\.\d+\.\d+) (\d+) typ relay/);
    assert.ok(relay, candidate);
    await page.click('a[data-page=turn]');
    const row = page.locator('#turn-sessions tbody tr', { hasText: '@dana' });
    await row.waitFor({ timeout: 15000 });
    assert.match(await row.textContent(), /Dana Scully/);
    assert.ok((await row.textContent()).includes(`${relay[1]}:${relay[2]}`), 'the row names the relay address the client got');
    const before = (await turndControl({ cmd: 'sessions' })).sessions;
    const mine = before.filter((x) => x.relay === `${relay[1]}:${relay[2]}`);
    assert.equal(mine.length, 1, JSON.stringify(before));
    await shot(page, 'console-turn');

    await row.locator('button', { hasText: 'Kill' }).click();
    await page.click('.modal button[type=submit]');
    await row.waitFor({ state: 'detached', timeout: 15000 });
    const after = (await turndControl({ cmd: 'sessions' })).sessions;
    assert.equal(after.filter((x) => x.id === mine[0].id).length, 0, `turnd still has the session: ${JSON.stringify(after)}`);
    await page.click('a[data-page=audit]');
    await page.waitForSelector('#audit tbody tr');
    assert.match(await page.locator('#audit').textContent(), /turn\.kill/);
    assert.deepEqual(page.errors, []);
  });
});

test('a dual-stack allocation (RFC 6156) shows both of its relayed addresses on the TURN page', { skip: skip || (!existsSync(TURN_PROBE) && 'turn-probe is not built'), timeout: 60000 }, async () => {
  const page = B.page;
  await guarded(page, 'console-turn-dual', async () => {
    // an ephemeral credential as signald hands out, derived from turnd's shared secret
    const user = `${Math.floor(Date.now() / 1000) + 600}:dual-probe`;
    const secret = readFileSync(join(dir, 'turn-secret'), 'utf8').trim();
    const pass = createHmac('sha1', secret).update(user).digest('base64');
    const probe = spawn(TURN_PROBE, ['allocate', `127.0.0.1:${BASE}`, '--user', `${user}:${pass}`, '--dual', '--hold', '30'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    probe.stdout.on('data', (d) => { out += d; });
    probe.stderr.on('data', (d) => { out += d; });
    try {
      for (let i = 0; i < 100 && (out.match(/^relay /gm) || []).length < 2; i++) await sleep(100);
      const r4 = (out.match(/^relay (127\.0\.0\.1:\d+)$/m) || [])[1];
      const r6 = (out.match(/^relay (\[::1\]:\d+)$/m) || [])[1];
      assert.ok(r4 && r6, `turn-probe got no dual allocation: ${out}`);
      await page.click('a[data-page=turn]');
      const row = page.locator('#turn-sessions tbody tr', { hasText: 'dual-probe' });
      await row.waitFor({ timeout: 15000 });
      assert.ok((await row.textContent()).includes(`${r4}, ${r6}`), `the row names both relays: ${await row.textContent()}`);
      assert.deepEqual(page.errors, []);
    } finally {
      probe.kill('SIGTERM');
    }
  });
});

test('hostile display and room names render as text on the users, rooms, TURN and audit pages', { skip, timeout: 90000 }, async () => {
  const page = B.page;
  const IMG = '<img src=x onerror="window.__xss=(window.__xss||0)+1">';
  const SVG = '<svg onload="window.__xss=(window.__xss||0)+1"></svg>';
  const SCRIPT = '<script>window.__xss=(window.__xss||0)+1</script>';
  let dialogs = 0;
  page.on('dialog', (d) => { dialogs++; d.dismiss().catch(() => {}); });
  await guarded(page, 'console-xss', async () => {
    const made = await page.evaluate(async (display) => (await fetch('/api/users/create', { method: 'POST',
      headers: { 'X-Requested-With': 'lanturn-console', 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'mallory', display_name: display, password: 'mallory password 1' }) })).status, `Mal ${IMG}`);
    assert.equal(made, 201);
    const mallory = await client('mallory', 'mallory password 1');
    await mallory.evaluate(async ({ SVG, SCRIPT }) => {
      const store = await import('/js/store.js');
      await store.request('room.create', { name: `Room ${SVG}`, topic: `Topic ${SCRIPT}`, members: [] });
    }, { SVG, SCRIPT });
    await allocate(mallory);

    const clean = async (where) => {
      const found = await page.evaluate(() => ({
        xss: window.__xss || 0,
        imgs: [...document.querySelectorAll('img')].filter((i) => i.getAttribute('src') === 'x').length,
        svgs: document.querySelectorAll('svg[onload]').length,
        scripts: [...document.querySelectorAll('script')].filter((s) => s.textContent.includes('__xss')).length,
      }));
      assert.deepEqual(found, { xss: 0, imgs: 0, svgs: 0, scripts: 0 }, where);
    };
    await page.click('a[data-page=users]');
    await page.fill('#user-search', 'mallory');
    await page.locator('tr[data-key=mallory]', { hasText: 'Mal <img src=x' }).waitFor({ timeout: 10000 });
    await clean('users');
    await page.click('a[data-page=rooms]');
    const room = page.locator('#room-list tbody tr', { hasText: 'Room <svg' });
    await room.waitFor({ timeout: 10000 });
    assert.match(await room.textContent(), /Topic <script>/);
    await clean('rooms');
    await room.locator('button', { hasText: 'Archive' }).click(); // its name goes into the audit log
    await page.click('.modal button[type=submit]');
    await page.locator('#room-list tbody tr', { hasText: 'Archived' }).waitFor({ timeout: 10000 });
    await page.click('a[data-page=turn]');
    await page.locator('#turn-sessions tbody tr', { hasText: 'Mal <img src=x' }).waitFor({ timeout: 15000 });
    await clean('TURN sessions');
    await page.click('a[data-page=audit]');
    await page.locator('#audit tbody tr', { hasText: 'Room <svg' }).first().waitFor({ timeout: 10000 });
    await clean('audit');
    await shot(page, 'console-xss');
    assert.equal(dialogs, 0);
    assert.deepEqual(page.errors, []);
  });
});
