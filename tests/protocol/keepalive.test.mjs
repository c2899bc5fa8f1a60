// keepalive.test.mjs - signald pings a WebSocket that has been quiet for 30 s
// and closes it (1001) when it has heard nothing for 75 s: a quiet client
// that answers the pings (as browsers do) stays connected, one that does not
// is closed. Takes about 80 s: the intervals are signald's own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, PORT_BASE } from './lib.mjs';

const srv = new Server('keepalive', { httpsPort: PORT_BASE, wsPort: PORT_BASE + 1 });

before(async () => { await srv.start(); });

after(async () => {
  assert.equal((await srv.stop()).code, 0, srv.logText());
  srv.cleanup();
});

test('a quiet client that answers pings stays; one that never answers is closed', { timeout: 150000 }, async () => {
  const [a, b] = await Promise.all([srv.login('alice'), srv.login('bob')]);
  const answers = await srv.connect(a);
  const mute = await srv.connect(b, { autoPong: false });
  const closed = await mute.closedPromise;
  assert.equal(closed.code, 1001);
  assert.equal(closed.reason, 'no answer to pings');
  assert.ok(mute.pings >= 1, 'the mute client was pinged before being closed');
  assert.equal(answers.closed, null, 'the client that answered every ping is still connected');
  assert.ok(answers.pings >= 2, `pinged again after each answer (${answers.pings} pings)`);
  const r = await answers.request('ping');
  assert.ok(r.now > 0);
  await answers.close();
});
