// `pot-image publish` of a 1 GiB signed image to a real nginx WebDAV server on 127.0.0.1
// (scripts/nginx-repository.conf), against the two things it cannot beat, measured in the
// same run on the same file: `curl -T` (the plain upload) and `pot-image hash` (Skein-1024
// alone). Publish checks the digest of exactly the bytes it uploads, so it is at best as
// fast as the slower of the two, and only that fast if hashing and uploading overlap.
// Targets (issue 12): publish throughput >= 0.9 x min(curl -T, Skein-1024 alone);
// peak RSS < 100 MiB. All three are whole commands, timed from process start; publish
// until its index is written (the consumer check that follows is shown apart). Trials
// rotate the order of the three; the figures are medians.
//   node --import tsx bench/publish.bench.ts      (BENCH_PUBLISH_MIB=256 BENCH_ROUNDS=3 for a quicker run)
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIB, cliCommand, judge, median, vmHwmKiB, writeSignedImage } from './support.js';
import { startNginx } from '../test/helpers/nginx.js';

const sizeMiB = Number(process.env.BENCH_PUBLISH_MIB ?? 1024);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const TARGET = 0.9;
const RSS_TARGET_MIB = 100;
const POT = 'matrix-synapse-nomad-amd64-14_3';
const TAG = '0.0.1';
const base = `${POT}_${TAG}`;
const USER = 'bench';
const PASSWORD = 'bench-only-password';
const bytes = sizeMiB * MIB;
const cli = cliCommand();

const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;
const mbps = (s: number): number => bytes / 1e6 / s;
const list = (xs: number[]): string => xs.map((s) => mbps(s).toFixed(0)).join(', ');

const dir = mkdtempSync(join(tmpdir(), 'publish-bench-'));
const nginx = await startNginx({ users: { [USER]: PASSWORD }, prefix: join(dir, 'nginx') });
try {
  const out = join(dir, 'out');
  mkdirSync(out);
  // The image: random .xz, written and digested in one pass, as the pipeline does.
  const { pub } = await writeSignedImage(out, base, sizeMiB, dir);
  const xz = join(out, `${base}.xz`);
  spawnSync('cat', [xz], { stdio: ['ignore', 'ignore', 'inherit'] }); // into the page cache for all three

  const curlOnce = (trial: number): number => {
    const started = process.hrtime.bigint();
    const r = spawnSync('curl', ['-sS', '-f', '-o', '/dev/null', '-u', `${USER}:${PASSWORD}`, '-T', xz, `${nginx.url}curl-${trial}/${base}.xz`]);
    const s = seconds(started);
    if (r.status !== 0) throw new Error(`curl failed: ${r.stderr}`);
    rmSync(join(nginx.root, `curl-${trial}`), { recursive: true, force: true });
    return s;
  };

  const hashOnce = (): number => {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [...cli.args, 'hash', xz], { encoding: 'utf8' });
    const s = seconds(started);
    if (r.status !== 0 || !/^[0-9a-f]{256}\n$/.test(r.stdout)) throw new Error(`pot-image hash failed (${r.status}): ${r.stderr}`);
    return s;
  };

  /** Temp name, digest while uploading, size check, MOVE, index; then the consumer check. */
  const publishOnce = async (trial: number): Promise<{ upload: number; total: number; peakKiB: number }> => {
    const started = process.hrtime.bigint();
    let upload: number | undefined;
    let peakKiB = 0;
    const child = spawn(process.execPath, [...cli.args, 'publish', '--from', out, '--pot', POT, '--tag', TAG, '--to', `${nginx.url}images-${trial}/`, '--public-key', pub], {
      env: { ...process.env, CI: 'true', POT_IMAGE_REPO_USER: USER, POT_IMAGE_REPO_PASSWORD: PASSWORD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const poll = setInterval(() => { peakKiB = Math.max(peakKiB, vmHwmKiB(child.pid!) ?? 0); }, 20);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (upload === undefined && /index\.json and index\.html updated/.test(stdout)) upload = seconds(started);
    });
    child.stdout.on('end', () => { peakKiB = Math.max(peakKiB, vmHwmKiB(child.pid!) ?? 0); });
    child.stderr.on('data', (d) => { stderr += d; });
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    clearInterval(poll);
    const total = seconds(started);
    if (code !== 0 || upload === undefined) throw new Error(`publish failed (${code}): ${stderr.trim()}`);
    rmSync(join(nginx.root, `images-${trial}`), { recursive: true, force: true });
    return { upload, total, peakKiB };
  };

  const curl: number[] = [];
  const hash: number[] = [];
  const upload: number[] = [];
  const total: number[] = [];
  let peakKiB = 0;
  for (let trial = 0; trial < rounds; trial++) {
    // Rotate which of the three goes first, so none always runs on the warmest (or noisiest) slot.
    const steps: Array<() => Promise<void>> = [
      async () => { curl.push(curlOnce(trial)); },
      async () => { hash.push(hashOnce()); },
      async () => {
        const p = await publishOnce(trial);
        upload.push(p.upload);
        total.push(p.total);
        peakKiB = Math.max(peakKiB, p.peakKiB);
      },
    ];
    for (let k = 0; k < steps.length; k++) await steps[(trial + k) % steps.length]!();
  }

  const curlRate = mbps(median(curl));
  const hashRate = mbps(median(hash));
  const publishRate = mbps(median(upload));
  const bound = Math.min(curlRate, hashRate);
  const ratio = publishRate / bound;
  const peakMiB = peakKiB / 1024;
  console.log(`publish bench: ${sizeMiB} MiB random .xz, signed; nginx ${nginx.url} (WebDAV, basic auth); ${rounds} rotating trials, medians (MB = 10^6 bytes); CLI: ${cli.how}`);
  console.log(`  curl -T (plain upload)                 ${curlRate.toFixed(0).padStart(5)} MB/s   trials: ${list(curl)}`);
  console.log(`  pot-image hash (Skein-1024 alone)      ${hashRate.toFixed(0).padStart(5)} MB/s   trials: ${list(hash)}`);
  console.log(`  pot-image publish (start to index)     ${publishRate.toFixed(0).padStart(5)} MB/s   trials: ${list(upload)}`);
  console.log(`  publish + consumer check (download, digest, signature) ${median(total).toFixed(2)} s`);
  console.log(`  ratio publish / min(curl, Skein)       ${ratio.toFixed(2).padStart(5)}        ${judge(ratio >= TARGET, `target >= ${TARGET}`)}`);
  console.log(`  peak RSS of pot-image publish          ${peakMiB.toFixed(1).padStart(5)} MiB      ${judge(peakMiB > 0 && peakMiB < RSS_TARGET_MIB, `target < ${RSS_TARGET_MIB} MiB`)}`);
  if (ratio < TARGET || !(peakMiB > 0 && peakMiB < RSS_TARGET_MIB)) process.exitCode = 1;
} finally {
  await nginx.stop();
  rmSync(dir, { recursive: true, force: true });
}
