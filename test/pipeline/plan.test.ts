// --dry-run and `pot-image plan`: the build's commands, in order, fully
// resolved, on any OS and without root (no stand-ins on PATH here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { FIXTURE_FLAVOURS } from './builder-sandbox.js';

const CHAIN = '-f fbsd-update -f matrix-synapse-nomad -f matrix-synapse-nomad+4';
/** The classification of releases depends on the day: pin it. */
const DATE = { POT_IMAGE_BUILD_DATE: '2026-12-01' };

function indexOf(lines: string[], pattern: RegExp): number {
  const i = lines.findIndex((l) => pattern.test(l));
  assert.ok(i >= 0, `no line matches ${pattern}:\n${lines.join('\n')}`);
  return i;
}

test('build --dry-run prints create with the exact flavour chain, snapshot, export and destroy, in order', async () => {
  const out = tempDir();
  const r = await runCli(['build', '--dry-run', '--flavour-dir', FIXTURE_FLAVOURS, '--output', join(out, 'o'), '--tag', '2.0.1', '--release', '14.5'], { env: DATE });
  assert.equal(r.code, 0, r.stderr);
  // Unmistakably a plan: a heading, the steps with where they would run, an end line; a shell script
  // whose comments say so, with no ticks and nothing reading as done.
  assert.match(r.stdout, /^# PLAN: nothing has been run\. A build of matrix-synapse-nomad-amd64-14_5 2\.0\.1 would run these commands, step by step:$/m);
  assert.match(r.stdout, /^# step \d+: create -- would be run on the builder \(this host\) as root$/m);
  assert.match(r.stdout, /^# step \d+: cleanup.* -- would be run on the builder/m);
  assert.match(r.stdout, /^# end of plan: \d+ commands in \d+ steps; nothing has been run$/m);
  assert.doesNotMatch(r.stdout + r.stderr, /✔|destroyed/);
  const lines = r.stdout.trim().split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const name = 'matrix-synapse-nomad-amd64-14_5';
  const create = indexOf(lines, /^pot create /);
  assert.equal(lines[create], `pot create -p ${name} -t single -b 14.5 -N public-bridge ${CHAIN}`);
  const snapshot = indexOf(lines, /^pot snapshot /);
  assert.equal(lines[snapshot], `pot snapshot -p ${name}`);
  const exp = indexOf(lines, /^pot export /);
  // pot exports into the build's temporary folder on the builder; the files come home into the output folder
  assert.equal(lines[exp], `pot export -p ${name} -t 2.0.1 -c -l 6 -D /tmp/pot-image.${name}.XXXXXX/export`);
  assert.ok(indexOf(lines, new RegExp(`^cat /tmp/pot-image\\.${name}\\.XXXXXX/export/${name}_2\\.0\\.1\\.xz .* > ${join(out, 'o')}/\\.${name}_2\\.0\\.1\\.partial/ `)) > exp);
  // the steps' cleanups in reverse order: the pot (create) before the temporary folder (stage flavours)
  const destroy = indexOf(lines, new RegExp(`^pot destroy -F -p ${name}$`));
  assert.equal(destroy, lines.length - 2, 'destroying the build pot is the last command but one');
  assert.equal(lines[lines.length - 1], `rm -rf /tmp/pot-image.${name}.XXXXXX`, 'removing the staging folder is the last');
  assert.ok(indexOf(lines, /^uname -s -r -m -p$/) < create, 'host checks come first');
  assert.ok(indexOf(lines, /^tar -xpf - -C \/tmp\/pot-image\..*XXXXXX   # 5 flavour files/) < create);
  assert.ok(indexOf(lines, /^cp -Rp \S+\/flavours\/matrix-synapse-nomad .*\/flavours\/matrix-synapse-nomad\.sh .* \/usr\/local\/etc\/pot\/flavours\/$/) < create);
  assert.ok(create < snapshot && snapshot < exp && exp < destroy);
  assert.ok(indexOf(lines, /^mv .*\.xz\.skein /) > exp, 'files move to their final names after export');
  // nothing was written: no output folder, no log
  assert.equal(existsSync(join(out, 'o')), false);
  // the plan alone goes to stdout (the release's lifecycle is a comment in it); stderr has warnings only,
  // no step messages that would read as done ("23 files staged")
  assert.match(r.stdout, /^# FreeBSD 14\.5 is supported until 2027-06-30$/m);
  assert.ok(r.stderr.split('\n').filter(Boolean).every((l) => /^(warning: |\d+\.\d+: planned)/.test(l)), r.stderr);
  assert.ok(lines.every((l) => !/✔/.test(l)));
});

test('--release 15.1 names the pot ...-15_1 and passes -b 15.1; no end-of-life warning', async () => {
  const r = await runCli(['build', '--dry-run', '--flavour-dir', FIXTURE_FLAVOURS, '--release', '15.1'], { env: DATE });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^pot create -p matrix-synapse-nomad-amd64-15_1 -t single -b 15\\.1 -N public-bridge ${CHAIN.replace(/\+/g, '\\+')}$`, 'm'));
  assert.match(r.stdout, /^pot destroy -F -p matrix-synapse-nomad-amd64-15_1$/m);
  assert.doesNotMatch(r.stderr, /end of life/);
});

test('the default plan builds every release of the definition in turn, each with its own pot; 14.4 near its end warns', async () => {
  const r = await runCli(['plan', '--flavour-dir', FIXTURE_FLAVOURS], { env: DATE });
  assert.equal(r.code, 0, r.stderr);
  const creates = r.stdout.split('\n').filter((l) => l.startsWith('pot create '));
  assert.deepEqual(creates.map((l) => l.split(' ')[3]), ['matrix-synapse-nomad-amd64-14_5', 'matrix-synapse-nomad-amd64-15_1']);
  const near = await runCli(['plan', '--flavour-dir', FIXTURE_FLAVOURS, '--release', '14.4'], { env: DATE });
  assert.equal(near.code, 0, near.stderr);
  assert.match(near.stderr, /warning: FreeBSD 14\.4 reaches its end of life on 2026-12-31 \(in 30 days\); move its users to 14\.5, 15\.1/);
});

test('pot-image plan prints the same plan as build --dry-run', async () => {
  const args = ['--flavour-dir', FIXTURE_FLAVOURS, '--release', '14.5-RELEASE', '--compression', '9', '--network', 'inherit'];
  const [plan, dry] = await Promise.all([runCli(['plan', ...args], { env: DATE }), runCli(['build', '--dry-run', ...args], { env: DATE })]);
  assert.equal(plan.code, 0, plan.stderr);
  // the smoke test (another step) names its clone randomly; everything else is identical
  const stable = (s: string) => s.replace(/-smoke-[0-9a-f]+/g, '-smoke-X').replace(/smoke[0-9a-f]{6}\b/g, 'smokeX').replace(/pot-image-smoke-\w+/g, 'S');
  assert.equal(stable(plan.stdout), stable(dry.stdout));
  assert.match(plan.stdout, /^pot create -p matrix-synapse-nomad-amd64-14_5 -t single -b 14\.5 -N inherit /m);
  assert.match(plan.stdout, /^pot export .* -l 9 /m);
});

test('--dry-run --json prints one JSON document with the plan and nothing else on stdout', async () => {
  const r = await runCli(['build', '--dry-run', '--json', '--flavour-dir', FIXTURE_FLAVOURS, '--release', '14.4'], { env: DATE });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { ok: boolean; dryRun: boolean; pot: string; plan: string[]; warnings: string[] };
  assert.equal(summary.ok, true);
  assert.equal(summary.dryRun, true);
  assert.equal(summary.pot, 'matrix-synapse-nomad-amd64-14_4');
  assert.ok(summary.plan.some((l) => l.startsWith('pot create ')));
  assert.ok(summary.warnings.some((w) => /14\.4 reaches its end of life on 2026-12-31/.test(w)));
});

test('paths with spaces are shell-quoted in the plan', async () => {
  const out = join(tempDir(), 'my images');
  const r = await runCli(['plan', '--flavour-dir', FIXTURE_FLAVOURS, '--output', out, '--release', '14.5'], { env: DATE });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^mv '${out}/\\.matrix-synapse-nomad-amd64-14_5_[^']+\\.partial/[^']+\\.xz' '${out}/matrix-synapse-nomad-amd64-14_5_[^']+\\.xz'$`, 'm'));
});

test('without --dry-run on this (non-FreeBSD) host the build stops in preflight with one line', { skip: process.platform === 'freebsd' && 'this is FreeBSD' }, async () => {
  const out = join(tempDir(), 'o');
  const r = await runCli(['build', '--flavour-dir', FIXTURE_FLAVOURS, '--output', out]);
  assert.equal(r.code, 1);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('pot-image: '));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, /^pot-image: preflight failed: this host runs \w+, not FreeBSD: pot builds need a FreeBSD builder \(prepare one with scripts\/prepare-builder\.sh\); run with --dry-run to see the plan here(; not attempted: 15\.1)?$/);
  assert.match(r.stdout.replace(/\x1b\[[0-9;]*m/g, ''), /✖ preflight/, 'progress lines (on stdout without --json) show the failed step');
});

test('the plan lists a step that would be skipped, with the reason, and no command of it', async () => {
  const r = await runCli(['plan', '--flavour-dir', FIXTURE_FLAVOURS, '--release', '14.5', '--no-publish'], { env: DATE });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^# step \d+: publish: upload the image to the repository -- would be skipped: --no-publish$/m);
  assert.doesNotMatch(r.stdout, /^pot-image publish /m);
});
