// Bringing a 1 GiB artifact home from an SSH builder: the build's way (`cat` over
// the multiplexed connection, Skein-1024 of .xz + .meta computed in a worker thread
// as the bytes arrive, compared with the builder's .skein) next to `scp` of the same
// file over the same connection, in the same run, against a real sshd on 127.0.0.1
// (test/helpers/sshd.ts). `ssh cat` (the transport alone, into a file, no hashing) is
// printed too, to show where the time goes. Trials rotate the order of the three;
// the figures are medians. Target (issue 15): bring home >= 0.9 x scp's throughput.
// The connection is the build's: AES-GCM offered first (SshHost.connect);
// BENCH_HOME_CIPHERS=default measures with OpenSSH's default order instead.
//   node --import tsx bench/bring-home.bench.ts      (BENCH_HOME_MIB=256 BENCH_ROUNDS=3 for a quicker run)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseBuilder } from '../pipeline/builder/ssh-target.js';
import { exportFiles } from '../pipeline/pot/export.js';
import { launchSshd, sshdMissing } from '../test/helpers/sshd.js';
import { MIB, ROOT, judge, median, writeSignedImage } from './support.js';

// The code as users run it: compiled (npm run bench builds first), so the digest worker
// starts as it does in a build, not through tsx's loader; from sources when dist/ is missing.
const compiled = existsSync(join(ROOT, 'dist', 'pipeline', 'builder', 'bring-home.js'));
const how = compiled ? 'dist/ (compiled)' : 'sources through tsx (no dist/: run npm run build)';
const load = (module: string): Promise<unknown> => import(compiled ? pathToFileURL(join(ROOT, 'dist', 'pipeline', `${module}.js`)).href : `../pipeline/${module}.js`);
const { bringHome } = await load('builder/bring-home') as typeof import('../pipeline/builder/bring-home.js');
const { SshHost } = await load('builder/ssh-host') as typeof import('../pipeline/builder/ssh-host.js');
const { ExecaRunner } = await load('runner/execa-runner') as typeof import('../pipeline/runner/execa-runner.js');

const sizeMiB = Number(process.env.BENCH_HOME_MIB ?? 1024);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const preferAesGcm = process.env.BENCH_HOME_CIPHERS !== 'default';
const TARGET = 0.9;
const POT = 'matrix-synapse-nomad-amd64-14_3';
const TAG = '0.0.1';

const seconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1e9;

const missing = sshdMissing();
if (missing) {
  console.log(`bring-home: NOT measured: ${missing}`);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'bring-home-bench-'));
const sshd = await launchSshd(join(dir, 'sshd'), { PATH: '/usr/bin:/bin', TMPDIR: dir }, undefined, undefined, false, false);
const runner = new ExecaRunner();
const host = new SshHost({ target: parseBuilder(sshd.url)!, runner, configFile: sshd.clientConfig, preferAesGcm });
try {
  const builderDir = join(dir, 'builder');
  spawnSync('mkdir', ['-p', builderDir, join(dir, 'home')]);
  await writeSignedImage(builderDir, `${POT}_${TAG}`, sizeMiB, dir);
  const from = exportFiles(builderDir, POT, TAG);
  const bytes = statSync(from.xz).size;
  const rate = (s: number): number => bytes / MIB / s;
  const list = (xs: number[]): string => xs.map((s) => rate(s).toFixed(0)).join(', ');
  await host.connect();
  const socket = (host as unknown as { socket: string }).socket;
  // What the connection negotiated, as ssh -v reports it through the same master's settings.
  const cipher = negotiatedCipher(socket);
  const target = join(dir, 'home', 'copy.xz');

  // scp of the same file over the same (multiplexed) connection.
  const scpOnce = (): number => {
    const started = process.hrtime.bigint();
    const r = spawnSync('scp', ['-q', '-F', sshd.clientConfig, '-o', `ControlPath=${socket}`, '-o', 'ControlMaster=no', '-P', String(sshd.port), `root@127.0.0.1:${from.xz}`, target]);
    const s = seconds(started);
    if (r.status !== 0) throw new Error(`scp failed: ${r.stderr}`);
    rmSync(target);
    return s;
  };
  // The transport alone: one remote cat through the login shell, into a file here, no hashing.
  const catOnce = (): number => {
    const started = process.hrtime.bigint();
    const r = spawnSync('sh', ['-c', 'ssh -F "$1" -o ControlPath="$2" -o ControlMaster=no -p "$3" root@127.0.0.1 cat "$4" > "$5"', 'sh', sshd.clientConfig, socket, String(sshd.port), from.xz, target]);
    const s = seconds(started);
    if (r.status !== 0) throw new Error(`ssh cat failed: ${r.stderr}`);
    rmSync(target);
    return s;
  };
  const homeOnce = async (): Promise<number> => {
    const to = exportFiles(join(dir, 'home'), POT, TAG);
    const started = process.hrtime.bigint();
    const { sizes } = await bringHome(host, from, to);
    const s = seconds(started);
    if (sizes.xz !== bytes) throw new Error('short transfer');
    for (const f of [to.xz, to.meta, to.skein]) rmSync(f);
    return s;
  };

  const scp: number[] = [];
  const cat: number[] = [];
  const home: number[] = [];
  for (let trial = 0; trial < rounds; trial++) {
    // Rotate which of the three goes first, so none always runs on the warmest (or noisiest) slot.
    const steps: Array<() => Promise<void>> = [
      async () => { scp.push(scpOnce()); },
      async () => { cat.push(catOnce()); },
      async () => { home.push(await homeOnce()); },
    ];
    for (let k = 0; k < steps.length; k++) await steps[(trial + k) % steps.length]!();
    console.log(`  trial ${trial + 1}: scp ${rate(scp.at(-1)!).toFixed(0)} MiB/s, ssh cat ${rate(cat.at(-1)!).toFixed(0)} MiB/s, bring home + Skein ${rate(home.at(-1)!).toFixed(0)} MiB/s (ratio ${(scp.at(-1)! / home.at(-1)!).toFixed(2)})`);
  }
  const ratio = median(scp) / median(home);
  console.log(`bring-home bench: ${sizeMiB} MiB random .xz on the builder (sshd on 127.0.0.1:${sshd.port}, one multiplexed connection, cipher ${cipher}); ${rounds} rotating trials, medians (MiB = 2^20 bytes); code: ${how}`);
  console.log(`  scp, same connection                   ${rate(median(scp)).toFixed(0).padStart(5)} MiB/s   trials: ${list(scp)}`);
  console.log(`  ssh cat > file (transport alone)       ${rate(median(cat)).toFixed(0).padStart(5)} MiB/s   trials: ${list(cat)}`);
  console.log(`  bring home, Skein-1024 on arrival      ${rate(median(home)).toFixed(0).padStart(5)} MiB/s   trials: ${list(home)}`);
  console.log(`  ratio bring-home / scp                 ${ratio.toFixed(2).padStart(5)}        ${judge(ratio >= TARGET, `target >= ${TARGET}`)}`);
  if (ratio < TARGET) process.exitCode = 1;
} finally {
  await host.close();
  await sshd.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** The cipher of a new connection made with the master's options, from `ssh -v` (no multiplexing: the master does not say). */
function negotiatedCipher(socket: string): string {
  const args = (host as unknown as { common(): string[] }).common().map((a) => (a === `ControlPath=${socket}` ? 'ControlPath=none' : a));
  const r = spawnSync('ssh', ['-v', ...args, '-o', 'LogLevel=DEBUG1', parseBuilder(sshd.url)!.host, 'true'], { encoding: 'utf8' });
  return /kex: server->client cipher: (\S+)/.exec(r.stderr)?.[1] ?? 'unknown';
}
