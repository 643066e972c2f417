// Bringing a 1 GiB artifact home from an SSH builder: the build's way (`cat` over
// the multiplexed connection, Skein-1024 of .xz + .meta computed in a worker thread
// as the bytes arrive, compared with the builder's .skein) next to `scp` of the same
// file over the same connection, in the same run, against a real sshd on 127.0.0.1
// (test/helpers/sshd.ts). `ssh cat` (the transport alone, into a file, no hashing) is
// printed too, to show where the time goes. Trials rotate the order of the three;
// the figures are medians. Target (issue 15): bring home >= 0.9 x scp's throughput.
// Both ends run on this machine, so the bench also prints the CPU seconds per GiB each
// party spent (sshd and what it ran, the ssh master that decrypts, this side: scp or
// node with its digest worker) and what that CPU allows on this machine's cores.
// The connection is the build's: AES-GCM offered first (SshHost.connect);
// BENCH_HOME_CIPHERS=default measures with OpenSSH's default order instead.
//   node --import tsx bench/bring-home.bench.ts      (BENCH_HOME_MIB=256 BENCH_ROUNDS=3 for a quicker run)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
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
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;

/** CPU seconds of a process and its reaped children (/proc/PID/stat utime, stime, cutime, cstime); 0 once gone. */
function cpuOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICKS;
  } catch {
    return 0;
  }
}

/** CPU seconds of a process and all its live descendants (and their reaped children). */
function treeCpu(root: number): number {
  const pids = [root];
  for (let i = 0; i < pids.length; i++) {
    const r = spawnSync('pgrep', ['-P', String(pids[i])], { encoding: 'utf8' });
    pids.push(...r.stdout.split('\n').filter(Boolean).map(Number));
  }
  return pids.reduce((sum, pid) => sum + cpuOf(pid), 0);
}

interface Cpu { server: number; master: number; local: number }

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
  const check = spawnSync('ssh', ['-F', sshd.clientConfig, '-o', `ControlPath=${socket}`, '-O', 'check', '127.0.0.1'], { encoding: 'utf8' });
  const masterPid = Number(/pid=(\d+)/.exec(check.stderr)?.[1]);
  const sshdPid = Number(readFileSync(join(dir, 'sshd', 'sshd.pid'), 'utf8'));
  // this side: node itself (its digest worker included) and every child it reaped (scp, sh, the ssh clients).
  const sample = (): Cpu => ({ server: treeCpu(sshdPid), master: cpuOf(masterPid), local: cpuOf(process.pid) });
  const perGiB = (a: Cpu, b: Cpu): Cpu => {
    const g = bytes / (1024 * MIB);
    return { server: (b.server - a.server) / g, master: (b.master - a.master) / g, local: (b.local - a.local) / g };
  };
  const load = [loadavg()[0]!];

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
  // Peak RSS of this process while bringing home, above where it started (VmHWM reset through clear_refs).
  let peakAboveKiB = 0;
  const status = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  const homeOnce = async (): Promise<number> => {
    const to = exportFiles(join(dir, 'home'), POT, TAG);
    writeFileSync('/proc/self/clear_refs', '5');
    const before = status('VmRSS');
    const started = process.hrtime.bigint();
    const { sizes } = await bringHome(host, from, to);
    const s = seconds(started);
    peakAboveKiB = Math.max(peakAboveKiB, status('VmHWM') - before);
    if (sizes.xz !== bytes) throw new Error('short transfer');
    for (const f of [to.xz, to.meta, to.skein]) rmSync(f);
    return s;
  };

  const scp: number[] = [];
  const cat: number[] = [];
  const home: number[] = [];
  const cpu: Record<'scp' | 'cat' | 'home', Cpu[]> = { scp: [], cat: [], home: [] };
  const measured = async (into: number[], costs: Cpu[], once: () => number | Promise<number>): Promise<void> => {
    const before = sample();
    into.push(await once());
    costs.push(perGiB(before, sample()));
  };
  for (let trial = 0; trial < rounds; trial++) {
    // Rotate which of the three goes first, so none always runs on the warmest (or noisiest) slot.
    const steps: Array<() => Promise<void>> = [
      () => measured(scp, cpu.scp, scpOnce),
      () => measured(cat, cpu.cat, catOnce),
      () => measured(home, cpu.home, homeOnce),
    ];
    for (let k = 0; k < steps.length; k++) await steps[(trial + k) % steps.length]!();
    load.push(loadavg()[0]!);
    console.log(`  trial ${trial + 1}: scp ${rate(scp.at(-1)!).toFixed(0)} MiB/s, ssh cat ${rate(cat.at(-1)!).toFixed(0)} MiB/s, bring home + Skein ${rate(home.at(-1)!).toFixed(0)} MiB/s (ratio ${(scp.at(-1)! / home.at(-1)!).toFixed(2)})`);
  }
  const ratio = median(scp) / median(home);
  const cores = availableParallelism();
  const costs = (xs: Cpu[]): Cpu & { total: number } => {
    const c = { server: median(xs.map((x) => x.server)), master: median(xs.map((x) => x.master)), local: median(xs.map((x) => x.local)) };
    return { ...c, total: c.server + c.master + c.local };
  };
  const costLine = (c: Cpu & { total: number }): string => `${c.total.toFixed(1).padStart(5)} s  (sshd side ${c.server.toFixed(1)}, ssh master ${c.master.toFixed(1)}, this side ${c.local.toFixed(1)})`;
  const homeCpu = costs(cpu.home);
  // Both ends on this machine's cores: what bring home's CPU per GiB allows if nothing else ran.
  const ceiling = (cores / homeCpu.total) * 1024;
  console.log(`bring-home bench: ${sizeMiB} MiB random .xz on the builder (sshd on 127.0.0.1:${sshd.port}, one multiplexed connection, cipher ${cipher}); ${rounds} rotating trials, medians (MiB = 2^20 bytes); code: ${how}; load average (1 min) ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}`);
  console.log(`  scp, same connection                   ${rate(median(scp)).toFixed(0).padStart(5)} MiB/s   trials: ${list(scp)}`);
  console.log(`  ssh cat > file (transport alone)       ${rate(median(cat)).toFixed(0).padStart(5)} MiB/s   trials: ${list(cat)}`);
  console.log(`  bring home, Skein-1024 on arrival      ${rate(median(home)).toFixed(0).padStart(5)} MiB/s   trials: ${list(home)}`);
  console.log(`  CPU per GiB, scp                       ${costLine(costs(cpu.scp))}`);
  console.log(`  CPU per GiB, ssh cat                   ${costLine(costs(cpu.cat))}`);
  console.log(`  CPU per GiB, bring home                ${costLine(homeCpu)}`);
  console.log(`  peak RSS while bringing home           ${(peakAboveKiB / 1024).toFixed(0).padStart(5)} MiB above this process's start (digest worker, its 6 MiB pool, the 8 MiB write queue)`);
  console.log(`  bring home's CPU on ${cores} cores allows at most ${ceiling.toFixed(0)} MiB/s: a ratio of ${(ceiling / rate(median(scp))).toFixed(2)} to this scp`);
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
