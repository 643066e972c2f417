// Start-up time of the image's server: from cook's start to /health answering
// OK through nginx (what Nomad's check sees), on the first start of a clone
// (fresh /mnt: render, keys, database created) and on a restart of that clone
// (configuration kept, database there). Baseline, same run: the same Synapse
// started by hand with the same rendered configuration and data, timed to its
// own /health on 127.0.0.1:8008, no cook and no nginx. Target: cook adds at
// most half again on top of Synapse's own start (ratio <= 1.5). Times run from
// cook's first line (not the test sandbox's set-up); medians of 3 runs each.
// Needs root (jail sandbox) and a real Synapse in TEST_SYNAPSE_COMMAND;
// without one it says what was not measured.
//   TEST_SYNAPSE_COMMAND=/path/to/synapse_homeserver node --import tsx bench/startup.bench.ts
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInJail } from '../scripts/cook-render.js';
import { startLive, SYNAPSE_COMMAND, synapseUnavailable, waitHealthy } from '../test/helpers/synapse.js';
import { jailUnavailable, MINIMAL } from '../test/image/jail.js';

const TARGET = 1.5;
const TRIALS = Number(process.env.BENCH_STARTUP_TRIALS ?? 3);
const why = jailUnavailable() ?? synapseUnavailable();
if (why) {
  console.log(`startup bench: not measured (${why}): cook start to /health OK through nginx needs a real Synapse`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'startup-bench-'));
try {
  chmodSync(work, 0o755);
  const mnt = join(work, 'mnt');
  mkdirSync(mnt, { mode: 0o755 });

  async function cookToHealth(seeds: string[]): Promise<{ ms: number; out: string }> {
    const jail = await startLive(MINIMAL, { synapse: SYNAPSE_COMMAND, mnt, seeds });
    await waitHealthy(jail, 'http://127.0.0.1/health', 300_000);
    // From cook's first line (the test sandbox's own set-up is not the image's).
    const ms = Date.now() - jail.cookStartedAt;
    const r = await jail.stop();
    if (r.code !== 0) throw new Error(`cook exited ${r.code}:\n${r.output}`);
    return { ms, out: r.out };
  }

  /** Synapse alone on the rendered tree and a copy of /mnt (without its database: a first start): start to its own /health. */
  async function synapseAlone(tree: string, fresh: boolean): Promise<number> {
    const copy = join(mkdtempSync(join(work, 'alone-')), 'mnt');
    execFileSync('cp', ['-a', mnt, copy]); // owners and modes as cook left them
    if (fresh) rmSync(join(copy, 'synapse', 'homeserver.db'), { force: true });
    const script = [
      'set -eu', 'start=$(date +%s%N)',
      `runuser -u synapse -- '${SYNAPSE_COMMAND}' --daemonize -c /usr/local/etc/matrix-synapse/homeserver.yaml`,
      'until [ "$(curl -s --max-time 5 http://127.0.0.1:8008/health)" = OK ]; do sleep 0.1; done',
      'echo $(( ($(date +%s%N) - start) / 1000000 ))',
      'kill "$(cat /var/run/matrix-synapse/homeserver.pid)"',
    ].join('\n');
    const r = await runInJail({ out: join(mkdtempSync(join(work, 'alone-')), 'tree'), mnt: copy, seeds: [tree], privateNetwork: true, command: ['sh', '-c', script] });
    if (r.code !== 0) throw new Error(`Synapse alone failed: ${r.stderr}`);
    return Number(r.stdout.trim().split('\n').pop());
  }

  // The median of TRIALS runs each (the machine is shared), cook and Synapse alone taking turns
  // so that both see the same load: first starts on fresh /mnt folders, then restarts.
  const firsts: number[] = [];
  const aloneFirsts: number[] = [];
  let last = '';
  for (let i = 0; i < TRIALS; i++) {
    rmSync(mnt, { recursive: true, force: true });
    mkdirSync(mnt, { mode: 0o755 });
    const run = await cookToHealth([]);
    firsts.push(run.ms);
    last = run.out;
    aloneFirsts.push(await synapseAlone(last, true));
  }
  const restarts: number[] = [];
  const aloneRestarts: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    restarts.push((await cookToHealth([last])).ms);
    aloneRestarts.push(await synapseAlone(last, false));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [firstMs, restartMs, aloneFirst, aloneRestart] = [median(firsts), median(restarts), median(aloneFirsts), median(aloneRestarts)];
  let failed = false;
  const list = (xs: number[]) => xs.map((x) => (x / 1000).toFixed(1)).join(', ');
  console.log(`  trials (s): cook first ${list(firsts)}; alone first ${list(aloneFirsts)}; cook restart ${list(restarts)}; alone restart ${list(aloneRestarts)}; load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`startup bench: cook start to /health OK through nginx, NOSSL, real Synapse at ${SYNAPSE_COMMAND}`);
  for (const [what, ms, alone] of [['first start of a clone (render, keys, new database)', firstMs, aloneFirst], ['restart of the clone', restartMs, aloneRestart]] as const) {
    const ratio = ms / alone;
    const met = ratio <= TARGET;
    failed ||= !met;
    console.log(`  ${what}: median ${(ms / 1000).toFixed(1)} s; Synapse alone on the same data: ${(alone / 1000).toFixed(1)} s; ratio ${ratio.toFixed(2)} (target <= ${TARGET}) ${met ? 'met' : 'NOT met'}`);
  }
  process.exitCode = failed ? 1 : 0;
} finally {
  rmSync(work, { recursive: true, force: true });
}
