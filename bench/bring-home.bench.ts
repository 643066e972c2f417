// Bringing a 1 GiB artifact home from an SSH builder: the build's way (`cat` over
// the multiplexed connection, Skein-1024 of .xz + .meta computed as the bytes
// arrive, compared with the builder's .skein) next to `scp` of the same file over
// the same connection, in the same run, against a real sshd on 127.0.0.1
// (test/helpers/sshd.ts). Target (issue 15): >= 0.9 of scp's throughput.
//   node --import tsx bench/bring-home.bench.ts      (BENCH_HOME_MIB=256 for a quicker run)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bringHome } from '../pipeline/builder/bring-home.js';
import { SshHost } from '../pipeline/builder/ssh-host.js';
import { parseBuilder } from '../pipeline/builder/ssh-target.js';
import { exportFiles } from '../pipeline/pot/export.js';
import { ExecaRunner } from '../pipeline/runner/execa-runner.js';
import { launchSshd, sshdMissing } from '../test/helpers/sshd.js';
import { MIB, writeSignedImage } from './support.js';

const sizeMiB = Number(process.env.BENCH_HOME_MIB ?? 1024);
const POT = 'matrix-synapse-nomad-amd64-14_3';
const TAG = '0.0.1';
const TRIALS = 3;
const rate = (bytes: number, ms: number) => `${(bytes / MIB / (ms / 1000)).toFixed(0)} MiB/s`;

const missing = sshdMissing();
if (missing) {
  console.log(`bring-home: NOT measured: ${missing}`);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'bring-home-bench-'));
const sshd = await launchSshd(join(dir, 'sshd'), { PATH: '/usr/bin:/bin', TMPDIR: dir }, undefined, undefined, false, false);
const host = new SshHost({ target: parseBuilder(sshd.url)!, runner: new ExecaRunner(), configFile: sshd.clientConfig });
try {
  const builderDir = join(dir, 'builder');
  spawnSync('mkdir', ['-p', builderDir, join(dir, 'home')]);
  await writeSignedImage(builderDir, `${POT}_${TAG}`, sizeMiB, dir);
  const from = exportFiles(builderDir, POT, TAG);
  const bytes = statSync(from.xz).size;
  await host.connect();
  const socket = (host as unknown as { socket: string }).socket;

  let best = { scp: Infinity, home: Infinity };
  for (let i = 0; i < TRIALS; i++) {
    // scp of the same file over the same (multiplexed) connection
    const target = join(dir, 'home', 'scp.xz');
    const t0 = Date.now();
    const scp = spawnSync('scp', ['-q', '-F', sshd.clientConfig, '-o', `ControlPath=${socket}`, '-o', 'ControlMaster=no', '-P', String(sshd.port), `root@127.0.0.1:${from.xz}`, target]);
    const scpMs = Date.now() - t0;
    if (scp.status !== 0) throw new Error(`scp failed: ${scp.stderr}`);
    rmSync(target);

    // The transport alone (one remote cat through the login shell, to a file here, no hashing): where the time goes.
    const t2 = Date.now();
    const cat = spawnSync('sh', ['-c', 'ssh -F "$1" -o ControlPath="$2" -o ControlMaster=no -p "$3" root@127.0.0.1 cat "$4" > "$5"', 'sh', sshd.clientConfig, socket, String(sshd.port), from.xz, target]);
    const catMs = Date.now() - t2;
    if (cat.status !== 0) throw new Error(`ssh cat failed: ${cat.stderr}`);
    rmSync(target);

    const to = exportFiles(join(dir, 'home'), POT, TAG);
    const t1 = Date.now();
    const { sizes } = await bringHome(host, from, to);
    const homeMs = Date.now() - t1;
    if (sizes.xz !== bytes) throw new Error('short transfer');
    for (const f of [to.xz, to.meta, to.skein]) rmSync(f);
    best = { scp: Math.min(best.scp, scpMs), home: Math.min(best.home, homeMs) };
    console.log(`  trial ${i + 1}: scp ${rate(bytes, scpMs)}, ssh cat ${rate(bytes, catMs)}, bring home + Skein ${rate(bytes, homeMs)}`);
  }
  const ratio = best.scp / best.home;
  console.log(`file: ${sizeMiB} MiB random .xz on the builder (sshd on 127.0.0.1:${sshd.port}, one multiplexed connection); best of ${TRIALS}`);
  console.log(`scp                          ${(best.scp / 1000).toFixed(2)} s  ${rate(bytes, best.scp)}`);
  console.log(`bring home, Skein on arrival ${(best.home / 1000).toFixed(2)} s  ${rate(bytes, best.home)}`);
  console.log(`ratio bring-home/scp throughput: ${ratio.toFixed(2)}  (target >= 0.90: ${ratio >= 0.9 ? 'met' : 'NOT met'})`);
  process.exitCode = ratio >= 0.9 ? 0 : 1;
} finally {
  await host.close();
  await sshd.stop();
  rmSync(dir, { recursive: true, force: true });
}
