// Throughput and peak memory of `pot-image publish` of a 1 GiB signed image to a real
// nginx WebDAV server on 127.0.0.1 (scripts/nginx-repository.conf), next to `curl -T`
// of the same .xz to the same server in the same run. Targets (issue 4): publish upload
// throughput >= 0.8 of curl's, peak RSS < 100 MiB.
//   node --import tsx bench/publish.bench.ts      (BENCH_PUBLISH_MIB=256 for a quicker run)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { MIB, cliCommand, vmHwmKiB, writeSignedImage } from './support.js';
import { join } from 'node:path';
import { startNginx } from '../test/helpers/nginx.js';

const sizeMiB = Number(process.env.BENCH_PUBLISH_MIB ?? 1024);
const POT = 'matrix-synapse-nomad-amd64-14_3';
const TAG = '0.0.1';
const base = `${POT}_${TAG}`;
const USER = 'bench';
const PASSWORD = 'bench-only-password';

const rate = (bytes: number, ms: number) => `${(bytes / MIB / (ms / 1000)).toFixed(0)} MiB/s`;

const dir = mkdtempSync(join(tmpdir(), 'publish-bench-'));
const nginx = await startNginx({ users: { [USER]: PASSWORD }, prefix: join(dir, 'nginx') });
try {
  const out = join(dir, 'out');
  spawnSync('mkdir', ['-p', out]);
  // The image: random .xz, written and digested in one pass, as the pipeline does.
  const { pub } = await writeSignedImage(out, base, sizeMiB, dir);
  const bytes = sizeMiB * MIB;

  // curl -T: the plain upload of the same file to the same server.
  const curlStart = Date.now();
  const curl = spawnSync('curl', ['-sS', '-f', '-o', '/dev/null', '-u', `${USER}:${PASSWORD}`, '-T', join(out, `${base}.xz`), `${nginx.url}curl/${base}.xz`]);
  const curlMs = Date.now() - curlStart;
  if (curl.status !== 0) throw new Error(`curl failed: ${curl.stderr}`);
  rmSync(join(nginx.root, 'curl'), { recursive: true, force: true });

  // pot-image publish: temp name, digest while uploading, size check, MOVE, index, then verify.
  const cli = cliCommand();
  const started = Date.now();
  const marks: Record<string, number> = {};
  let peakKiB = 0;
  let peakUploadKiB = 0;
  const child = spawn(process.execPath, [...cli.args, 'publish', '--from', out, '--pot', POT, '--tag', TAG, '--to', `${nginx.url}images/`, '--public-key', pub], {
    env: { ...process.env, POT_IMAGE_REPO_USER: USER, POT_IMAGE_REPO_PASSWORD: PASSWORD },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const poll = setInterval(() => { peakKiB = Math.max(peakKiB, vmHwmKiB(child.pid!) ?? 0); }, 20);
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const text = d.toString();
    if (/\.xz: uploaded/.test(text)) marks.xz ??= Date.now();
    if (/index\.json and index\.html updated/.test(text) && marks.index === undefined) {
      marks.index = Date.now();
      peakUploadKiB = Math.max(peakKiB, vmHwmKiB(child.pid!) ?? 0);
    }
  });
  child.stderr.on('data', (d) => { stderr += d; });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  clearInterval(poll);
  const totalMs = Date.now() - started;
  if (code !== 0) throw new Error(`publish failed (${code}): ${stderr}`);

  const publishMs = (marks.index ?? Date.now()) - started;
  const ratio = curlMs / publishMs;
  const peakMiB = peakKiB / 1024;
  console.log(`image: ${sizeMiB} MiB random .xz, signed; nginx ${nginx.url} (WebDAV, basic auth); CLI: ${cli.how}`);
  console.log(`curl -T            ${(curlMs / 1000).toFixed(2)} s  ${rate(bytes, curlMs)}`);
  console.log(`publish (upload)   ${(publishMs / 1000).toFixed(2)} s  ${rate(bytes, publishMs)}   (process start to index written: checks, temp PUT with digest, size check, MOVE x4, lock, index)`);
  console.log(`publish + verify   ${(totalMs / 1000).toFixed(2)} s          (then the consumer check downloads and digests the ${sizeMiB} MiB from nginx)`);
  console.log(`ratio publish/curl throughput: ${ratio.toFixed(2)}  (target >= 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
  console.log(`peak RSS of pot-image publish: ${peakMiB.toFixed(1)} MiB  (target < 100 MiB: ${peakMiB < 100 ? 'met' : 'NOT met'}); until the index was written: ${(peakUploadKiB / 1024).toFixed(1)} MiB`);
} finally {
  await nginx.stop();
  rmSync(dir, { recursive: true, force: true });
}
