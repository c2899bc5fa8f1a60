// chat.e2e.test.mjs - two people in two Chromiums use the real client against a
// real signald: sign in, create a room, messages with mentions and links,
// typing, read receipts, replies, reactions, edits, deletes, escaping, files
// with image previews, search, history paging, reconnect, direct messages,
// password change and sign out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Appliance, launch, login, shot, haveChromium, PORT_BASE, PASSWORD } from './lib.mjs';

const T = 15000;
let app, A, B;

// A small real PNG (gradient), made here so no binary lives in the repository.
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const o = y * (w * 3 + 1) + 1 + x * 3;
    raw[o] = 80 + (x * 150) / w; raw[o + 1] = 70 + (y * 120) / h; raw[o + 2] = 229;
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const skip = !haveChromium() && 'chromium is not installed (apt-get install chromium)';

before(async () => {
  if (skip) return;
  app = await new Appliance('chat', { base: PORT_BASE }).start();
  A = await launch('alice');
  B = await launch('bob');
});

after(async () => {
  await A?.close(); await B?.close(); await app?.stop();
});

const room = (page, name) => page.locator('.room-item', { hasText: name });
// Hover a message and click one of its actions (retried: a re-render may replace the element).
async function act(page, text, action) {
  for (let i = 0; ; i++) {
    try {
      const m = msg(page, text);
      await m.hover({ timeout: 3000 });
      await m.locator(`[data-action=${action}]`).click({ timeout: 2000 });
      return;
    } catch (e) { if (i >= 4) throw e; }
  }
}
const msg = (page, text) => page.locator('.msg').filter({ has: page.locator('.msg-body', { hasText: text }) });

test('sign in, create a room, chat with typing, mentions, links and read receipts', { skip, timeout: 60000 }, async () => {
  const a = A.page, b = B.page;
  await a.goto(app.url);
  await a.waitForSelector('#login-name');
  await shot(a, 'login');
  // Japanese UI strings, switchable on the sign-in screen
  await a.selectOption('select.lang', 'ja');
  await a.locator('h1', { hasText: 'サインイン' }).waitFor({ timeout: T });
  await a.selectOption('select.lang', 'en');
  await a.locator('h1', { hasText: 'Sign in' }).waitFor({ timeout: T });
  // a wrong password is refused with a message
  await a.fill('#login-name', 'alice');
  await a.fill('#login-password', 'not the password');
  await a.click('button[type=submit]');
  await a.locator('.form-error', { hasText: 'Wrong user name or password' }).waitFor({ timeout: T });
  await login(a, app.url, 'alice');
  await login(b, app.url, 'bob');

  // alice creates "Design" with bob
  await a.click('[data-action=new-room]');
  await a.fill('#room-name', 'Design');
  await a.fill('#room-topic', 'Product design reviews');
  await a.click('.person[data-user=bob]');
  await a.click('[data-action=create-room]');
  await a.locator('.room-title', { hasText: 'Design' }).waitFor({ timeout: T });
  await room(b, 'Design').waitFor({ timeout: T });

  // typing shows on bob's side once he has the room open
  await room(b, 'Design').click();
  await a.locator('#composer').pressSequentially('Hello @bo', { delay: 20 });
  await b.locator('.typing', { hasText: 'Alice is typing' }).waitFor({ timeout: T });
  // @-autocomplete completes the name
  await a.locator('.autocomplete li', { hasText: '@bob' }).waitFor({ timeout: T });
  await a.keyboard.press('Enter');
  await a.locator('#composer').pressSequentially('see https://example.com/spec?x=1 <b>not bold</b>');
  await a.keyboard.press('Enter');

  const m1 = msg(b, 'see https://example.com/spec');
  await m1.waitFor({ timeout: T });
  assert.equal(await m1.locator('a[href="https://example.com/spec?x=1"]').count(), 1, 'link is clickable');
  assert.equal(await m1.locator('.mention.me', { hasText: '@bob' }).count(), 1, 'mention highlighted');
  assert.equal(await m1.locator('b').count(), 0, 'user text is not HTML');
  assert.match(await m1.locator('.msg-body').innerText(), /<b>not bold<\/b>/);
  assert.equal(await b.locator('.typing').innerText(), '', 'typing cleared after the message');
  // bob has it open and visible, so alice sees the receipt
  await a.locator('.receipt', { hasText: 'Seen by Bob' }).waitFor({ timeout: T });
});

test('unread and mention badges, replies, reactions, edit and delete', { skip, timeout: 60000 }, async () => {
  const a = A.page, b = B.page;
  // bob leaves for an empty state by opening a direct room with carol
  await b.click('[data-action=new-direct]');
  await b.click('.person[data-user=carol]');
  await b.locator('.room-title', { hasText: 'Carol' }).waitFor({ timeout: T });
  await a.locator('#composer').fill('ping @bob about the mockups');
  await a.keyboard.press('Enter');
  await a.locator('#composer').fill('and one more without a mention');
  await a.keyboard.press('Enter');
  await room(b, 'Design').locator('.badge.mention', { hasText: '@1' }).waitFor({ timeout: T });
  await room(b, 'Design').click();
  await room(b, 'Design').locator('.badge').waitFor({ state: 'detached', timeout: T });

  // bob replies to the first message and reacts to it
  await act(b, 'ping @bob about the mockups', 'reply');
  await b.locator('.context-bar', { hasText: 'Replying to Alice' }).waitFor({ timeout: T });
  await b.locator('#composer').fill('On it 👍');
  await b.keyboard.press('Enter');
  await act(b, 'ping @bob about the mockups', 'react');
  await b.locator('.react-pop button', { hasText: '🎉' }).click();

  const reply = msg(a, 'On it 👍');
  await reply.locator('.reply-quote', { hasText: 'ping @bob' }).waitFor({ timeout: T });
  await msg(a, 'ping @bob about the mockups').locator('.reaction', { hasText: '🎉' }).waitFor({ timeout: T });
  // alice adds the same reaction: count 2
  await msg(a, 'ping @bob about the mockups').locator('.reaction', { hasText: '🎉' }).click();
  await msg(b, 'ping @bob about the mockups').locator('.reaction .count', { hasText: '2' }).waitFor({ timeout: T });

  // alice edits her last message with arrow-up, then deletes it
  await a.locator('#composer').click();
  await a.keyboard.press('ArrowUp');
  await a.locator('.context-bar', { hasText: 'Editing' }).waitFor({ timeout: T });
  await a.locator('#composer').fill('and one more, edited');
  await a.keyboard.press('Enter');
  await msg(b, 'and one more, edited').locator('.edited').waitFor({ timeout: T });
  await act(a, 'and one more, edited', 'delete');
  await a.locator('.dialog .btn.danger').click();
  await b.locator('.msg .deleted').first().waitFor({ timeout: T });
  assert.equal(await msg(b, 'and one more, edited').count(), 0);
});

test('a file dropped on the room uploads with progress and shows as an image to the other side', { skip, timeout: 60000 }, async () => {
  const a = A.page, b = B.page;
  const dir = mkdtempSync(join(tmpdir(), 'lanturn-e2e-file-'));
  const file = join(dir, 'mockup.png');
  writeFileSync(file, png(320, 180));
  // drag and drop: dispatch a real DataTransfer with the file
  const buf = [...png(320, 200)];
  const dt = await a.evaluateHandle((bytes) => {
    const d = new DataTransfer();
    d.items.add(new File([new Uint8Array(bytes)], 'mockup-dropped.png', { type: 'image/png' }));
    return d;
  }, buf);
  await a.dispatchEvent('.room', 'dragenter', { dataTransfer: dt });
  await a.locator('.dropzone', { hasText: 'Drop files' }).waitFor({ timeout: T });
  await a.dispatchEvent('.room', 'drop', { dataTransfer: dt });
  // and the attach button's file input
  await a.locator('.composer input[type=file]').setInputFiles(file);

  for (const [name, height] of [['mockup-dropped.png', 200], ['mockup.png', 180]]) {
    const img = b.locator(`.msg .file-image img[alt="${name}"]`);
    await img.waitFor({ timeout: T });
    await b.waitForFunction((n) => { const i = document.querySelector(`.file-image img[alt="${n[0]}"]`); return i && i.complete && i.naturalWidth === 320 && i.naturalHeight === n[1]; }, [name, height], { timeout: T });
  }
  await b.waitForTimeout(300);
  await b.mouse.move(0, 0);
  await shot(b, 'chat');
  // the same room on a phone-sized screen
  await a.setViewportSize({ width: 390, height: 844 });
  await a.locator('.only-mobile').first().waitFor({ timeout: T });
  await a.waitForTimeout(300);
  await shot(a, 'mobile');
  await a.setViewportSize({ width: 1280, height: 800 });
});

test('search highlights matches and jumps to the message', { skip, timeout: 30000 }, async () => {
  const b = B.page;
  await b.click('[data-action=search]');
  await b.fill('#search-input', 'mockups');
  const hit = b.locator('.hit', { hasText: 'about the' });
  await hit.waitFor({ timeout: T });
  assert.equal(await hit.locator('mark').first().innerText(), 'mockups');
  await shot(b, 'search');
  await hit.click();
  await b.locator('.msg.flash', { hasText: 'about the mockups' }).waitFor({ timeout: T });
});

test('older history loads when scrolling up', { skip, timeout: 60000 }, async () => {
  const a = A.page, b = B.page;
  // 80 messages from alice's client (the store's own send path)
  await a.evaluate(async () => {
    const store = await import('/js/store.js');
    const id = store.state.current;
    for (let i = 1; i <= 80; i++) { await store.send(id, `bulk message ${i}`); }
  });
  await msg(b, 'bulk message 80').waitFor({ timeout: T });
  await b.reload();
  await room(b, 'Design').click();
  await msg(b, 'bulk message 80').waitFor({ timeout: T });
  assert.equal(await msg(b, 'bulk message 1').count(), 0, 'first page only');
  for (let i = 0; i < 20 && await msg(b, 'bulk message 1 ').count() + await b.locator('.msg .msg-body', { hasText: /^bulk message 1$/ }).count() === 0; i++) {
    await b.evaluate(() => { document.querySelector('.scroller').scrollTop = 0; });
    await b.waitForTimeout(250);
  }
  await b.locator('.msg-body', { hasText: /^bulk message 1$/ }).waitFor({ timeout: T });
  await b.locator('.room-start', { hasText: 'beginning of Design' }).waitFor({ timeout: T });
});

test('reconnects with since after the connection drops and shows the banner', { skip, timeout: 60000 }, async () => {
  const a = A.page, b = B.page;
  const seq = Number(await b.evaluate(() => sessionStorage.getItem('lanturn.seq')));
  assert.ok(seq > 0, 'last seq kept in sessionStorage');
  await b.evaluate(async () => { const s = await import('/js/store.js'); s.conn.ws.close(); });
  await b.locator('.banner', { hasText: 'Reconnecting' }).waitFor({ timeout: T });
  await a.locator('#composer').fill('sent while bob was away');
  await a.keyboard.press('Enter');
  await msg(b, 'sent while bob was away').waitFor({ timeout: T });
  await b.locator('.banner', { hasText: 'Connected again' }).waitFor({ timeout: T });
  assert.ok(Number(await b.evaluate(() => sessionStorage.getItem('lanturn.seq'))) > seq);
});

test('direct message, presence, password change and sign out', { skip, timeout: 60000 }, async () => {
  const a = A.page, b = B.page;
  await b.click('[data-action=new-direct]');
  await b.click('.person[data-user=alice]');
  await b.locator('.room-title', { hasText: 'Alice' }).waitFor({ timeout: T });
  await b.locator('#composer').fill('private hello');
  await b.keyboard.press('Enter');
  await room(a, 'Bob').locator('.badge', { hasText: '1' }).waitFor({ timeout: T });
  await room(a, 'Bob').click();
  await msg(a, 'private hello').waitFor({ timeout: T });
  // presence: bob is online in alice's member list
  await a.locator('.member[data-user=bob] .presence.online').waitFor({ timeout: T });

  await b.click('[data-action=password]');
  await b.fill('#pw-old', PASSWORD);
  await b.fill('#pw-new', 'a much newer secret');
  await b.fill('#pw-again', 'a much newer secret');
  await b.click('[data-action=save-password]');
  await b.locator('.toast', { hasText: 'Password changed' }).waitFor({ timeout: T });
  await b.click('[data-action=logout]');
  await b.locator('.dialog .btn.primary').click();
  await b.waitForSelector('#login-name', { timeout: T });
  await login(b, app.url, 'bob', 'a much newer secret');
  await room(b, 'Alice').click();
  await msg(b, 'private hello').waitFor({ timeout: T });
  assert.deepEqual([...A.page.errors, ...B.page.errors], []);
  // bob closes his browser: he goes offline for alice
  await B.close();
  B = null;
  await a.locator('.member[data-user=bob] .presence.offline').waitFor({ timeout: T });
});
