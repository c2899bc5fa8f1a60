// console.e2e.test.mjs - an administrator uses lanturn-console in headless
// Chromium against a real applianced (with turnd and signald): sign in (a
// wrong password is refused on the page), the dashboard shows both services
// running, create a user and find them in the list, change a setting (saved
// in the config file after applianced checked it), and download a backup.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TURND, SIGNALD, launch, shot, haveChromium, sleep } from './lib.mjs';

const CONSOLE = process.env.CONSOLE || join(ROOT, 'build/appliance/console/lanturn-console');
const APPLIANCED = process.env.APPLIANCED || join(ROOT, 'build/appliance/applianced');
const BASE = Number(process.env.LANTURN_PORT_BASE || 26600);
const ADMIN_PW = 'console admin password';
const skip = (!haveChromium() && 'chromium is not installed') || (!existsSync(CONSOLE) && 'lanturn-console is not built');

let dir, procs = [], B, url, log = [];

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
turnd: { listen = ["127.0.0.1:${BASE}"]; relay_ip = ["127.0.0.1"]; relay_ports = "${BASE + 100}-${BASE + 150}";
         secret_file = "${dir}/turn-secret"; };
signal: { data_dir = "${dir}/data"; listen = "127.0.0.1:${BASE + 1}"; ws_listen = "127.0.0.1:${BASE + 2}";
          tls_cert = "${dir}/tls/cert.pem"; tls_key = "${dir}/tls/key.pem"; web_root = "${join(ROOT, 'signal/web')}";
          turn_urls = ["turn:127.0.0.1:${BASE}?transport=udp"]; turn_secret_file = "${dir}/turn-secret";
          password_scrypt_n = 16384; };
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
});

after(async () => {
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
