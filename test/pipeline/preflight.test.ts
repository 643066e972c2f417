// preflight against a scripted builder: each rule, all problems in one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { LocalHost } from '../../pipeline/builder/local-host.js';
import { join } from 'node:path';
import { loadDefinition } from '../../pipeline/definition/load.js';
import { commandLine } from '../../pipeline/runner/shell-quote.js';
import type { CommandRunner, RunResult } from '../../pipeline/runner/types.js';
import { artifactPaths, type BuildContext } from '../../pipeline/steps/context.js';
import { runPreflight } from '../../pipeline/steps/preflight.js';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { FIXTURE_FLAVOURS } from './builder-sandbox.js';
import { freebsdHost } from '../helpers/freebsd-host.js';
import { classify } from '../../pipeline/definition/lifecycle.js';

type Answers = Record<string, Partial<RunResult>>;

// The builder's files preflight reads itself: MANIFESTS and resolv.conf (no base cached: it asks fetch -s).
const host = freebsdHost();
for (const r of ['14.3', '14.4', '14.5']) host.manifest(r, 'a'.repeat(64));
process.env.POT_IMAGE_HOST_ROOT = host.root;

const HEALTHY: Answers = {
  'uname -s -r -m -p': { stdout: 'FreeBSD 14.3-RELEASE amd64 amd64\n' },
  'id -u': { stdout: '0\n' },
  'pot version -q': { stdout: '0.16.1\n' },
  'pot config -q -g zfs_root': { stdout: 'zroot/pot\n' },
  'zfs list -H -p -o name,avail zroot/pot': { stdout: `zroot/pot\t${100 * 1024 ** 3}\n` },
  'pot info -q -p matrix-synapse-nomad-amd64-14_5': { exitCode: 1 },
  'getent group pot': { stdout: 'pot:*:1001:\n' },
  'pot ls -q': { stdout: 'other-pot\n' },
  'sysctl -n kern.features.vimage': { stdout: '1\n' },
  'pkg info -l freebsd-release-manifests': { stdout: 'm:\n\t/usr/local/share/freebsd/MANIFESTS/amd64-amd64-14.4-RELEASE\n\t/usr/local/share/freebsd/MANIFESTS/amd64-amd64-14.5-RELEASE\n' },
};

function scripted(answers: Answers): CommandRunner & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async run(command, args) {
      const line = commandLine(command, args);
      asked.push(line);
      const a = answers[line] ?? (command === 'df' ? { stdout: `Filesystem 1024-blocks Used Avail Capacity Mounted on\n/dev/x 1 1 ${50 * 1024 * 1024} 1% /\n` } : undefined)
        // `test -e F -o -e F.sh` (the stock flavour) answered from the real folder
        ?? (command === 'test' ? { exitCode: existsSync(args[1]!) || existsSync(args[4]!) ? 0 : 1 } : undefined)
        // `cat FILE` (MANIFEST, resolv.conf) answered from the real file
        ?? (command === 'cat' ? (existsSync(args[0]!) ? { stdout: readFileSync(args[0]!, 'utf8') } : { exitCode: 1, stderr: `cat: ${args[0]}: No such file or directory` }) : undefined)
        // The release probes (their own tests are the end-to-end ones): the base answers, the repository has every origin.
        ?? (command === 'fetch' && args[0] === '-s' ? { stdout: '190000000\n' } : undefined)
        ?? (command === 'pkg' && args[0] === '-o' ? { stdout: args.includes('rquery') ? 'x-1.0\n' : '' } : undefined);
      if (!a) throw new Error(`unexpected command: ${line}`);
      return { command, args, exitCode: 0, stdout: '', stderr: '', durationMs: 0, ...a };
    },
    abort() {},
  };
}

type Scripted = ReturnType<typeof scripted>;

function context(answers: Answers, overrides: Parameters<typeof loadDefinition>[1] = {}): BuildContext & { asked: string[] } {
  const dir = tempDir();
  const installDir = join(dir, 'flavours');
  const definition = loadDefinition('image/image.yaml', { flavourDir: FIXTURE_FLAVOURS, installDir, output: join(dir, 'out'), signKey: '', ...overrides }, PROJECT_ROOT);
  (definition.sign as { key?: string }).key = overrides.signKey || undefined;
  mkdirSync(installDir, { recursive: true });
  const script: Scripted = scripted(answers);
  copyFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'stock-flavours', 'fbsd-update.sh'), join(installDir, 'fbsd-update.sh'));
  return {
    definition,
    options: { dryRun: false, keep: false, verbose: false, json: false, requireSignature: false, skipSmokeTest: true, rebuild: false, allowOlder: false, noPublish: true },
    runner: new LocalHost(script, tempDir()),
    home: new LocalHost(script, tempDir()),
    written: [],
    asked: script.asked,
    artifacts: artifactPaths(definition.export.output, definition.potName, definition.tag),
    note() {},
    warnings: [],
    potCreated: false,
    summary: {},
    durations: {},
  };
}

test('a healthy builder passes, with the pot version and the warning for a release near its end', async () => {
  const ctx = context({ ...HEALTHY, 'pot info -q -p matrix-synapse-nomad-amd64-14_4': { exitCode: 1 } }, { release: '14.4' });
  ctx.lifecycle = classify('14.4', new Date('2026-12-01T00:00:00Z'));
  const said: string[] = [];
  await runPreflight(ctx, (l) => said.push(l));
  assert.equal(ctx.summary.potVersion, '0.16.1');
  assert.ok(said.includes('pot 0.16.1'));
  assert.match(ctx.warnings[0]!, /FreeBSD 14\.4 reaches its end of life on 2026-12-31 \(in 30 days\)/);
});

test('wrong architecture, a host older than the image, low space and a missing stock flavour: all in one line', async () => {
  const ctx = context({
    ...HEALTHY,
    'uname -s -r -m -p': { stdout: 'FreeBSD 13.5-RELEASE arm64 aarch64\n' },
    'zfs list -H -p -o name,avail zroot/pot': { stdout: `zroot/pot\t${1024 ** 3}\n` },
    'pkg info -l freebsd-release-manifests': { stdout: 'm:\n\t/usr/local/share/freebsd/MANIFESTS/arm64-aarch64-14.3-RELEASE\n' },
    'pot info -q -p matrix-synapse-nomad-amd64-14_3': { exitCode: 1 },
  }, { release: '14.3' });
  rmSync(join(ctx.definition.flavours.installDir, 'fbsd-update.sh'));
  await assert.rejects(runPreflight(ctx, () => {}), (e: Error) => {
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, /^4 problems on this builder: /);
    assert.match(e.message, /\(1\) the builder is arm64 but the image is amd64: build on an amd64 builder or pass --arch arm64/);
    assert.match(e.message, /\(2\) the builder runs FreeBSD 13\.5-RELEASE, and a jail cannot run a newer major \(14\.3\) than its host: build it on a FreeBSD 14\.x builder/);
    assert.match(e.message, /\(3\) only 1\.0 GiB free in zroot\/pot, the build needs 4\.0 GiB: free space in the pool: pot prune/);
    assert.match(e.message, /the stock flavour fbsd-update is missing from .*: pkg install -f pot/);
    return true;
  });
});

test('pot missing: one problem with its install command, and no pot probes after it', async () => {
  const ctx = context({ ...HEALTHY, 'pot version -q': { exitCode: 127 } });
  await assert.rejects(runPreflight(ctx, () => {}), /: 1 problem on this builder: \(1\) pot is not installed: pkg install pot && pot init/);
  assert.ok(!ctx.asked.some((l) => l.startsWith('pot config') || l.startsWith('zfs')));
});

test('an unreadable signing key is reported with how to make one', async () => {
  const ctx = context(HEALTHY, { signKey: '/nonexistent/key.sec' });
  await assert.rejects(runPreflight(ctx, () => {}), /the signing key \/nonexistent\/key\.sec is not readable: .*pot-image keygen/);
});

test("pot not initialised (pot config exits 1: POT_FS_ROOT missing) is told apart from an unset POT_ZFS_ROOT", async () => {
  const uninit = context({ ...HEALTHY, 'pot config -q -g zfs_root': { exitCode: 1, stderr: "###>  /opt/pot does not exist, please run 'pot init'\n" } });
  await assert.rejects(runPreflight(uninit, () => {}), /\(1\) pot is not initialised \(pot config: \/opt\/pot does not exist, please run 'pot init'\): pot init/);
  assert.ok(!uninit.asked.some((l) => l.startsWith('zfs')), 'no zfs probe without a ZFS root');
  const unset = context({ ...HEALTHY, 'pot config -q -g zfs_root': { stdout: '\n' } });
  await assert.rejects(runPreflight(unset, () => {}), /\(1\) pot has no ZFS root configured: set POT_ZFS_ROOT/);
});

test('preflight against the uname/zfs/pkg/pot stand-ins of a builder: pot not initialised yet', async () => {
  const { sandbox } = await import('./builder-sandbox.js');
  const { ExecaRunner } = await import('../../pipeline/runner/execa-runner.js');
  const s = sandbox();
  rmSync(s.potRoot, { recursive: true, force: true }); // before `pot init`
  const ctx = context(HEALTHY);
  ctx.runner = new LocalHost(new ExecaRunner({ pathPrefix: s.env.PATH!.split(':').slice(0, 2) }), tempDir());
  const saved = process.env.POT_STANDIN_ROOT;
  process.env.POT_STANDIN_ROOT = s.potRoot;
  process.env.POT_IMAGE_HOST_ROOT = s.host.root; // a prepared builder: the base is cached
  try {
    await assert.rejects(runPreflight(ctx, () => {}), (e: Error) => {
      assert.match(e.message, /^1 problem on this builder: \(1\) pot is not initialised \(pot config: .* does not exist, please run 'pot init'\): pot init/);
      return true;
    });
  } finally {
    if (saved === undefined) delete process.env.POT_STANDIN_ROOT; else process.env.POT_STANDIN_ROOT = saved;
    process.env.POT_IMAGE_HOST_ROOT = host.root;
  }
});

test('a pot older than 0.15.0 (no pot exec, no export .meta) is a problem with its upgrade command', async () => {
  const ctx = context({ ...HEALTHY, 'pot version -q': { stdout: '0.12.0\n' } });
  await assert.rejects(runPreflight(ctx, () => {}), /\(1\) pot 0\.12\.0 is older than 0\.15\.0 \(the build needs pot exec and export's \.meta file\): pkg upgrade pot/);
  const { potTooOld } = await import('../../pipeline/pot/version.js');
  assert.equal(potTooOld('0.15.0'), undefined);
  assert.equal(potTooOld('0.16.0'), undefined);
  assert.equal(potTooOld('git-master'), undefined, 'an unparseable version is not refused');
});

test('a smoke-test clone left over from a crashed build is reported with its destroy command (it pins the snapshot)', async () => {
  const ctx = context({ ...HEALTHY, 'pot ls -q': { stdout: 'other-pot\nmatrix-synapse-nomad-amd64-14_5-smoke-a1b2c3\n' } });
  await assert.rejects(runPreflight(ctx, () => {}), /\(1\) smoke-test clone matrix-synapse-nomad-amd64-14_5-smoke-a1b2c3 left over from an earlier build: pot destroy -F -p matrix-synapse-nomad-amd64-14_5-smoke-a1b2c3/);
});

test('public-bridge on a kernel without VIMAGE is a problem that names the fix; inherit does not ask', async () => {
  const ctx = context({ ...HEALTHY, 'sysctl -n kern.features.vimage': { exitCode: 1, stderr: "sysctl: unknown oid 'kern.features.vimage'\n" } });
  await assert.rejects(runPreflight(ctx, () => {}), /the kernel has no VIMAGE \(kern\.features\.vimage\), which the public-bridge network needs: boot a GENERIC kernel .*or pass --network inherit/);
  const inherit = context(HEALTHY, { network: 'inherit' });
  await runPreflight(inherit, () => {});
  assert.ok(!inherit.asked.some((l) => l.startsWith('sysctl')), 'no VIMAGE probe for inherit');
});
