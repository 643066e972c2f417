// Peak memory (and speed) of `pot-image verify` on a 1 GiB signed image
// served over HTTP from 127.0.0.1. Target (issue 3): peak RSS under 100 MiB
// whatever the image size, since the .xz is streamed into the digest.
//   node --import tsx bench/verify.bench.ts       (BENCH_VERIFY_MIB=256 for a quicker run)
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageDigest } from '../pipeline/artifacts/image-digest.js';
import { generateKeyFiles, signFile } from '../pipeline/artifacts/signify.js';
import { skeinLine } from '../pipeline/artifacts/skein1024.js';
import { startStaticServer } from '../test/helpers/static-server.js';

const MIB = 1024 * 1024;
const sizeMiB = Number(process.env.BENCH_VERIFY_MIB ?? 1024);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const POT = 'matrix-synapse-nomad-amd64-14_3';
const TAG = '0.0.1';
const base = `${POT}_${TAG}`;

/** The CLI as users run it (compiled); through tsx when dist/ is missing. */
function cliCommand(): { args: string[]; how: string } {
  const compiled = join(root, 'dist', 'pipeline', 'cli', 'main.js');
  if (existsSync(compiled)) return { args: [compiled], how: 'node dist/pipeline/cli/main.js' };
  return { args: ['--import', 'tsx', join(root, 'pipeline', 'cli', 'main.ts')], how: 'node --import tsx pipeline/cli/main.ts (no dist/: run npm run build)' };
}

/** Highest VmHWM (peak resident set) seen while polling /proc/PID/status. */
function vmHwmKiB(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'verify-bench-'));
try {
  // The image: random .xz, written and digested in one pass, as the pipeline does.
  const digest = new ImageDigest();
  const fd = openSync(join(dir, `${base}.xz`), 'w');
  const chunk = Buffer.alloc(4 * MIB);
  for (let written = 0; written < sizeMiB * MIB; written += chunk.length) {
    randomFillSync(chunk);
    digest.addXz(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  writeFileSync(join(dir, `${base}.xz.meta`), '-\n');
  writeFileSync(join(dir, `${base}.xz.skein`), skeinLine(digest.finish('-\n')));
  const pub = join(dir, 'bench.pub');
  const sec = join(dir, 'bench.sec');
  await generateKeyFiles(pub, sec, { passphrase: null });
  await signFile(sec, join(dir, `${base}.xz.skein`));

  const server = await startStaticServer(dir);
  const cli = cliCommand();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...cli.args, 'verify', '--url', server.url, '--pot', POT, '--tag', TAG, '--public-key', pub],
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
  console.log(`  peak RSS (VmHWM) ${peakMiB.toFixed(1)} MiB          target < 100 MiB: ${peakMiB > 0 && peakMiB < 100 ? 'met' : 'NOT met'}`);
  if (code !== 0) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
