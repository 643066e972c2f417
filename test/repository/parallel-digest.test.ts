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

test('socket-sized and odd chunks are gathered into the pool buffers: the digest is of exactly the bytes fed, in order', async () => {
  // 64 KiB reads (a pipe from ssh), single bytes, and chunks straddling the 1 MiB buffers; more than the pool holds.
  const data = bytes(9 * 1024 * 1024 + 4321, 'small');
  const meta = Buffer.from('base-amd64-14_3:1.0.0@1700000000\n');
  const expected = new ImageDigest();
  expected.addXz(data);
  const sizes = [65536, 1, 65535, 3, 1024 * 1024 + 7, 65536 * 3 - 5];
  const digest = new ParallelDigest();
  try {
    for (let i = 0, k = 0; i < data.length; k++) {
      const n = sizes[k % sizes.length]!;
      await digest.add(data.subarray(i, i + n));
      i += n;
    }
    assert.deepEqual(await digest.finish(meta), { hex: expected.finish(meta), bytes: data.length });
  } finally {
    await digest.close();
  }
});
