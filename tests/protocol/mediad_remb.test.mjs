// mediad_remb.test.mjs - bandwidth feedback through the real mediad: a
// media-load publisher and subscriber (real ICE, DTLS-SRTP, RTP and RTCP) in
// one room. While the subscriber's receiver reports claim 20 % lost, the
// REMBs mediad sends the publisher fall below what it sends; once they are
// clean the REMBs rise again. A room whose subscriber reports no loss keeps
// the publisher at the cap, and room.stats counts the REMBs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { sleep, tempDir } from './lib.mjs';
import { MediadRig } from './mediad_rig.mjs';

const { MEDIAD, MEDIA_LOAD } = process.env;
const skip = (!MEDIAD || !existsSync(MEDIAD) || !MEDIA_LOAD || !existsSync(MEDIA_LOAD)) &&
  'mediad or media-load missing';
const KBPS = 800; // the publisher's fixed rate
const CAP = 2500; // mediad's cap on a room's video stream, kbit/s
const dir = skip ? null : tempDir('mediad-remb');
// the rig's process log and control requests, with mediad alone (no signald or turnd)
const rig = new MediadRig({ dir: dir ?? '.' });
const { sock, log } = rig;

// One media-load run; its --json summary.
function load(room, extra) {
  return new Promise((resolve, reject) => {
    const p = spawn(MEDIA_LOAD, ['--control', sock, '--room', room, '--publishers', '1', '--subscribers', '1',
      '--kbps', String(KBPS), '--seconds', '12', '--json', ...extra]);
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => log.push(`[media-load ${room}] ${d}`));
    p.once('exit', (code) => {
      const last = out.trim().split('\n').pop();
      if (code !== 0) reject(new Error(`media-load ${room} exited with ${code}:\n${out}\n${log.join('')}`));
      else resolve(JSON.parse(last));
    });
  });
}

before(async () => {
  if (skip) return;
  rig.run('mediad', [MEDIAD, '--control-socket', sock, '--ice-address', '127.0.0.1', '--workers', '2']);
  for (let i = 0; ; i++) {
    try { if ((await rig.request({ cmd: 'stats' })).ok) break; } catch { /* not yet */ }
    if (i > 100) throw new Error(`mediad did not come up:\n${log.join('')}`);
    await sleep(50);
  }
});

after(async () => {
  if (skip) return;
  for (const p of rig.procs) p.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('a subscriber reporting loss makes mediad lower the publisher\'s REMB below its rate, clean reports let it rise, and a clean room stays at the cap', { skip, timeout: 90000 }, async () => {
  const [lossy, clean] = await Promise.all([
    load('lossy', ['--report-loss', '20', '--loss-seconds', '5']),
    load('clean', []),
  ]);
  const r = lossy.remb_kbps;
  const why = `REMBs (kbit/s): ${JSON.stringify(r)}\n${log.join('')}`;
  assert.ok(r.length >= 8, `a REMB about once a second: ${why}`);
  for (const v of r) assert.ok(v >= 100 && v <= CAP, `within the floor and the cap: ${why}`);
  // falling: below the publisher's own rate, each loss report taking it lower
  const low = Math.min(...r);
  const at = r.indexOf(low);
  assert.ok(low < KBPS * 0.75, `the REMB falls below 75 % of the ${KBPS} kbit/s sent: ${why}`);
  assert.ok(at >= 2 && r[at] < r[at - 1] && r[at - 1] < r[at - 2], `it falls step by step: ${why}`);
  // rising: after the loss ends no REMB is below the one before (2-10 % of
  // real loss on a busy machine would hold it)
  const tail = r.slice(at);
  assert.ok(tail.length >= 4, `REMBs after the loss ended: ${why}`);
  for (let i = 1; i < tail.length; i++) assert.ok(tail[i] >= tail[i - 1], `it rises once reports are clean: ${why}`);
  assert.ok(tail[tail.length - 1] > low * 1.25, `it rose by more than a quarter: ${why}`);
  assert.ok(lossy.room_rembs_out >= r.length, `room.stats counts the REMBs: ${lossy.room_rembs_out}`);
  // the clean room: the publisher is told the cap (rounded down by REMB's mantissa), never less
  const c = clean.remb_kbps;
  assert.ok(c.length >= 8, `REMBs in the clean room: ${JSON.stringify(c)}`);
  for (const v of c) assert.ok(v >= CAP - 1 && v <= CAP, `a clean room stays at the cap: ${JSON.stringify(c)}`);
});
