// stage flavours: one tar stream into the build's temporary folder on the
// builder, then flat into pot's flavour folder, X.d/ payload included,
// permissions kept, other flavours never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { InputError } from '../../pipeline/errors.js';
import { join } from 'node:path';
import type { BuilderHost } from '../../pipeline/builder/host.js';
import { LocalHost } from '../../pipeline/builder/local-host.js';
import { PlanBook, PlanHost } from '../../pipeline/builder/plan-host.js';
import { ExecaRunner } from '../../pipeline/runner/execa-runner.js';
import type { BuildContext } from '../../pipeline/steps/context.js';
import { flavourFiles, stageFlavoursTask } from '../../pipeline/steps/stage-flavours.js';
import { tempDir } from '../helpers/tmp.js';
import { FIXTURE_FLAVOURS } from './builder-sandbox.js';

const CHAIN = ['matrix-synapse-nomad', 'matrix-synapse-nomad+4'];
const mode = (p: string) => statSync(p).mode & 0o7777;

test('flavourFiles lists the command file, the script and the payload', () => {
  assert.deepEqual(flavourFiles(FIXTURE_FLAVOURS, 'matrix-synapse-nomad'), [
    'matrix-synapse-nomad',
    'matrix-synapse-nomad.sh',
    'matrix-synapse-nomad.d/',
    'matrix-synapse-nomad.d/conf/',
    'matrix-synapse-nomad.d/conf/example.yaml',
    'matrix-synapse-nomad.d/cook',
  ]);
  assert.deepEqual(flavourFiles(FIXTURE_FLAVOURS, 'matrix-synapse-nomad+4'), ['matrix-synapse-nomad+4']);
});

/** Run the stage step (and its cleanup) against `host`, installing into `install`. */
async function stage(host: BuilderHost, install: string, source = FIXTURE_FLAVOURS, chain = CHAIN): Promise<BuildContext> {
  const ctx = {
    definition: { potName: 'p', flavours: { source, installDir: install, before: ['fbsd-update'], chain } },
    runner: host,
  } as unknown as BuildContext;
  const step = stageFlavoursTask();
  await (step.task as (c: BuildContext, t: unknown) => Promise<void>)(ctx, { title: '', output: '' });
  return ctx;
}

test('one tar stream into a fresh temporary folder, then flat into the flavour folder with modes; other flavours untouched; cleanup removes the folder', async () => {
  const install = tempDir();
  const tmp = tempDir();
  writeFileSync(join(install, 'fbsd-update.sh'), 'stock\n', { mode: 0o700 });
  writeFileSync(join(install, 'other-flavour'), 'other\n');
  const host = new LocalHost(new ExecaRunner(), tmp);
  const ctx = await stage(host, install);
  assert.match(ctx.builderDir!, new RegExp(`^${tmp}/pot-image\\.p\\.`));
  assert.equal(mode(join(ctx.builderDir!, 'flavours', 'matrix-synapse-nomad.d', 'cook')), 0o755, 'modes kept through tar');
  assert.equal(mode(join(install, 'matrix-synapse-nomad.sh')), 0o755);
  assert.equal(mode(join(install, 'matrix-synapse-nomad.d', 'cook')), 0o755);
  assert.equal(mode(join(install, 'matrix-synapse-nomad')), 0o644);
  assert.equal(readFileSync(join(install, 'matrix-synapse-nomad.d', 'conf', 'example.yaml'), 'utf8'), 'fixture: true\n');
  assert.equal(readFileSync(join(install, 'fbsd-update.sh'), 'utf8'), 'stock\n');
  assert.equal(mode(join(install, 'fbsd-update.sh')), 0o700);
  assert.equal(readFileSync(join(install, 'other-flavour'), 'utf8'), 'other\n');
  assert.match(await stageFlavoursTask().cleanup!(ctx, { failed: false, builder: host, home: host }) ?? '', /^removed /);
  assert.deepEqual(readdirSync(tmp), [], 'nothing left in the temporary folder');
});

test('stale payload of our own flavour is removed, another flavour\'s payload stays; the plan writes nothing', async () => {
  const install = tempDir();
  mkdirSync(join(install, 'matrix-synapse-nomad.d'), { recursive: true });
  writeFileSync(join(install, 'matrix-synapse-nomad.d', 'old-file'), 'x');
  mkdirSync(join(install, 'another.d'));
  writeFileSync(join(install, 'another.d', 'keep'), 'x');
  await stage(new LocalHost(new ExecaRunner(), tempDir()), install);
  assert.ok(!existsSync(join(install, 'matrix-synapse-nomad.d', 'old-file')));
  assert.ok(existsSync(join(install, 'matrix-synapse-nomad.d', 'cook')));
  assert.ok(existsSync(join(install, 'another.d', 'keep')));

  const empty = join(tempDir(), 'not-there');
  const plan = new PlanHost(new PlanBook());
  await stage(plan, empty);
  assert.equal(existsSync(empty), false);
  assert.deepEqual(plan.lines, [
    'mktemp -d /tmp/pot-image.p.XXXXXX',
    'tar -xpf - -C /tmp/pot-image.p.XXXXXX   # 5 flavour files of matrix-synapse-nomad, matrix-synapse-nomad+4',
    `mkdir -p ${empty}`,
    `rm -rf ${empty}/matrix-synapse-nomad.d`,
    `cp -Rp /tmp/pot-image.p.XXXXXX/flavours/matrix-synapse-nomad /tmp/pot-image.p.XXXXXX/flavours/matrix-synapse-nomad.sh /tmp/pot-image.p.XXXXXX/flavours/matrix-synapse-nomad.d /tmp/pot-image.p.XXXXXX/flavours/matrix-synapse-nomad+4 ${empty}/`,
  ]);
});

test('folder modes, empty folders and links inside the payload arrive as they are; a link out of it or a FIFO is refused, naming it', async () => {
  const source = tempDir('flavour-src-');
  writeFileSync(join(source, 'f'), 'f\n');
  writeFileSync(join(source, 'f.sh'), '#!/bin/sh\n', { mode: 0o755 });
  mkdirSync(join(source, 'f.d', 'root', '.ssh'), { recursive: true });
  chmodSync(join(source, 'f.d', 'root', '.ssh'), 0o700);
  writeFileSync(join(source, 'f.d', 'root', '.ssh', 'authorized_keys'), 'k\n', { mode: 0o600 });
  mkdirSync(join(source, 'f.d', 'var', 'empty'), { recursive: true });
  symlinkSync('root/.ssh/authorized_keys', join(source, 'f.d', 'keys'));
  const install = tempDir();
  await stage(new LocalHost(new ExecaRunner(), tempDir()), install, source, ['f']);
  assert.equal(mode(join(install, 'f.d', 'root', '.ssh')), 0o700, 'a 0700 folder stays 0700');
  assert.equal(mode(join(install, 'f.d', 'root', '.ssh', 'authorized_keys')), 0o600);
  assert.ok(statSync(join(install, 'f.d', 'var', 'empty')).isDirectory(), 'an empty folder arrives');
  assert.equal(readlinkSync(join(install, 'f.d', 'keys')), 'root/.ssh/authorized_keys', 'a link inside the payload stays a link');

  symlinkSync('/etc/master.passwd', join(source, 'f.d', 'outside'));
  assert.throws(() => flavourFiles(source, 'f'), (e: unknown) => e instanceof InputError && e.exitCode === 2
    && e.message === 'flavour f: f.d/outside is a symbolic link to /etc/master.passwd, outside f.d/; put the file itself there instead');
  rmSync(join(source, 'f.d', 'outside'));
  symlinkSync('../../f.sh', join(source, 'f.d', 'var', 'up'));
  assert.throws(() => flavourFiles(source, 'f'), /f\.d\/var\/up is a symbolic link to \.\.\/\.\.\/f\.sh, outside f\.d\//);
  rmSync(join(source, 'f.d', 'var', 'up'));
  execFileSync('mkfifo', [join(source, 'f.d', 'pipe')]);
  assert.throws(() => flavourFiles(source, 'f'), /flavour f: f\.d\/pipe is not a file, folder or symbolic link/);
});
