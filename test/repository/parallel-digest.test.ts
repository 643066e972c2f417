import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { ImageDigest } from '../../pipeline/artifacts/image-digest.js';
import { ParallelDigest, warmUpDigestWorker } from '../../pipeline/repository/parallel-digest.js';
import { PROJECT_ROOT } from '../helpers/cli.js';

function bytes(n: number, seed: string): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, block = 0; i < n; block++) i += createHash('sha512').update(`${seed}:${block}`).digest().copy(out, i);
  return out;
}

test('after a warm-up, the digest worker (the spare, taken over) digests what it is given', async () => {
  const data = bytes(3 * 1024 * 1024 + 77, 'warm');
  const meta = Buffer.from('-\n');
  const expected = new ImageDigest();
  expected.addXz(data);
  warmUpDigestWorker();
  warmUpDigestWorker(); // idempotent: still one spare
  const digest = new ParallelDigest();
  try {
    for (let i = 0; i < data.length; i += 700_000) await digest.add(data.subarray(i, i + 700_000));
    assert.deepEqual(await digest.finish(meta), { hex: expected.finish(meta), bytes: data.length });
  } finally {
    await digest.close();
  }
});

test('a warmed-up worker that is never used does not keep the process alive', () => {
  // A publish that fails before its upload must still exit: the spare worker is unref'd.
  const script = `import('./pipeline/repository/parallel-digest.ts').then((m) => { m.warmUpDigestWorker(); console.log('started'); });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, 'the process had to be killed: the spare worker kept it alive');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'started');
});
