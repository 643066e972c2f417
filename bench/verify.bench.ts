// Peak memory (and speed) of `pot-image verify` on a 1 GiB signed image
// served over HTTP from 127.0.0.1. Target (issue 3): peak RSS under 100 MiB
// whatever the image size, since the .xz is streamed into the digest. A missed target
// prints NOT met and exits non-zero.
//   node --import tsx bench/verify.bench.ts       (BENCH_VERIFY_MIB=256 for a quicker run)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { MIB, cliCommand, judge, vmHwmKiB, writeSignedImage } from './support.js';
import { join } from 'node:path';
import { startStaticServer } from '../test/helpers/static-server.js';

const sizeMiB = Number(process.env.BENCH_VERIFY_MIB ?? 1024);
const POT = 'matrix-synapse-nomad-amd64-14_3';
const TAG = '0.0.1';
const base = `${POT}_${TAG}`;

const dir = mkdtempSync(join(tmpdir(), 'verify-bench-'));
try {
  // The image: random .xz, written and digested in one pass, as the pipeline does.
  const { pub } = await writeSignedImage(dir, base, sizeMiB, dir);

  const server = await startStaticServer(dir);
  const cli = cliCommand();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...cli.args, 'verify', '--public-url', server.url, '--pot', POT, '--tag', TAG, '--public-key', pub],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
  let peak = 0;
  const poll = setInterval(() => { peak = Math.max(peak, vmHwmKiB(child.pid!) ?? 0); }, 10);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  // Read the high-water mark one last time when the output closes, before the process is reaped.
  child.stdout.on('end', () => { peak = Math.max(peak, vmHwmKiB(child.pid!) ?? 0); });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 128)));
  clearInterval(poll);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await server.close();
  const peakMiB = peak / 1024;
  console.log(`verify bench: ${sizeMiB} MiB signed image over HTTP from 127.0.0.1, ${cli.how}`);
  console.log(`  exit ${code}: ${out.trim()}`);
  console.log(`  wall time ${seconds.toFixed(1)} s, ${((sizeMiB * MIB) / 1e6 / seconds).toFixed(0)} MB/s end to end`);
  const met = peakMiB > 0 && peakMiB < 100;
  console.log(`  peak RSS (VmHWM) ${peakMiB.toFixed(1)} MiB          ${judge(met, 'target < 100 MiB')}`);
  if (code !== 0 || !met) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
