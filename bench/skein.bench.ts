// Skein-1024 throughput on a 256 MiB file next to `sha512sum` on the same
// file in the same run. Target (issue 3): Skein at least half of sha512sum.
//   node --import tsx bench/skein.bench.ts        (BENCH_SKEIN_MIB=64 for a quicker run)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, writeSync, rmSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileChunks } from '../pipeline/artifacts/file-chunks.js';
import { Skein1024 } from '../pipeline/artifacts/skein1024.js';

const MIB = 1024 * 1024;
const sizeMiB = Number(process.env.BENCH_SKEIN_MIB ?? 256);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'skein-bench-'));
const file = join(dir, 'data.bin');

function makeFile(): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(MIB);
  for (let i = 0; i < sizeMiB; i++) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
}

async function skeinOnce(): Promise<{ seconds: number; hex: string }> {
  const started = process.hrtime.bigint();
  const skein = new Skein1024();
  for await (const chunk of fileChunks(file)) skein.update(chunk);
  const hex = skein.hexDigest();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, hex };
}

function shaOnce(): number {
  const started = process.hrtime.bigint();
  const r = spawnSync('sha512sum', [file], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('sha512sum failed');
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const mbps = (seconds: number): number => (sizeMiB * MIB) / 1e6 / seconds;

try {
  makeFile();
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] }); // into the page cache for both
  const sha: number[] = [];
  const skein: number[] = [];
  let hex = '';
  for (let i = 0; i < rounds; i++) {
    // alternate, so a noisy neighbour hurts both alike
    sha.push(shaOnce());
    const s = await skeinOnce();
    skein.push(s.seconds);
    hex = s.hex;
  }
  const best = (xs: number[]): number => Math.min(...xs);
  const skeinRate = mbps(best(skein));
  const shaRate = mbps(best(sha));
  const ratio = skeinRate / shaRate;
  console.log(`skein bench: ${sizeMiB} MiB file, best of ${rounds} (MB = 10^6 bytes)`);
  console.log(`  Skein-1024 (pot-image, streaming) ${skeinRate.toFixed(0).padStart(6)} MB/s   runs: ${skein.map((s) => mbps(s).toFixed(0)).join(', ')}`);
  console.log(`  sha512sum                          ${shaRate.toFixed(0).padStart(6)} MB/s   runs: ${sha.map((s) => mbps(s).toFixed(0)).join(', ')}`);
  console.log(`  ratio Skein/sha512sum              ${ratio.toFixed(2).padStart(6)}        target >= 0.50: ${ratio >= 0.5 ? 'met' : 'NOT met'}`);
  console.log(`  digest ${hex.slice(0, 32)}…`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
