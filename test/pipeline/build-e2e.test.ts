// The whole `pot-image build` against the pot stand-in, end to end, and the
// failure cases: whatever fails, the build pot is destroyed, the message names
// the step, the exit code is non-zero and no artifact is left under its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { POT_NAME, TAG, artifactNames, sandbox, waitForLine } from './builder-sandbox.js';

const oneLineError = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('pot-image: '));

test('a build runs every step in order, writes the three export files and the log, and destroys the pot', async () => {
  const s = sandbox();
  const r = await s.build(['--json'], { POT_IMAGE_TEST_PASSWORD: 'hunter2-secret', FIXTURE_ECHO: 'hunter2-secret' });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as Record<string, any>;
  assert.equal(summary.ok, true);
  assert.equal(summary.pot, POT_NAME);
  assert.equal(summary.tag, TAG);
  assert.match(summary.digest.hex, /^[0-9a-f]{256}$/);
  for (const name of artifactNames()) assert.ok(s.outputFiles().includes(name), `${name} in ${s.outputFiles().join(', ')}`);
  assert.ok(!s.outputFiles().some((f) => f.startsWith('.')), 'no staging folder left');
  assert.equal(summary.artifacts.xz.size, readFileSync(join(s.output, artifactNames()[0]!)).length);
  assert.equal(readFileSync(join(s.output, artifactNames()[1]!), 'utf8'), '-\n');
  assert.deepEqual(s.pots(), [], 'build pot destroyed');

  const pot = s.calls().filter((l) => l.startsWith('pot ') && !/^pot (version|config|info|ls)/.test(l));
  assert.deepEqual(pot.map((l) => l.split(' ')[1]), ['create', 'snapshot', 'export', 'destroy']);
  assert.equal(pot[0], `pot create -p ${POT_NAME} -t single -b 14.5 -N public-bridge -f fbsd-update -f matrix-synapse-nomad -f matrix-synapse-nomad+4`);
  assert.match(pot[2]!, new RegExp(`^pot export -p ${POT_NAME} -t ${TAG} -c -l 6 -D \\S+$`));
  // the flavours ran in the given order, with the jail folder as their world
  const flavourRuns = s.calls().filter((l) => l.startsWith('  jexec'));
  assert.deepEqual(flavourRuns.map((l) => l.split(' ')[4]), ['/tmp/fbsd-update.sh', '/tmp/matrix-synapse-nomad.sh']);

  // the durations are reported per step and the log names every command with its exit code
  for (const step of ['preflight', 'stage flavours', 'create', 'snapshot', 'export', 'check', 'cleanup']) {
    assert.equal(typeof summary.durationsMs[step], 'number', step);
  }
  const log = readFileSync(join(s.output, `${POT_NAME}_${TAG}.build.log`), 'utf8');
  assert.match(log, /\$ pot create -p /);
  assert.match(log, /# exit 0 after/);
  assert.match(log, /fixture says: \*\*\*/, 'flavour output reaches the log, with the secret blanked');
  assert.doesNotMatch(log + r.stdout + r.stderr, /hunter2-secret/);
  // the digest in .skein is what sha-independent tools would recompute: checked by the build itself
  assert.equal(readFileSync(join(s.output, artifactNames()[2]!), 'utf8'), `${summary.digest.hex}\n`);
  // the .xz is a real xz stream holding the jail
  const listing = execFileSync('sh', ['-c', `xz -dc "$1" | tar -tf -`, 'sh', join(s.output, artifactNames()[0]!)], { encoding: 'utf8' });
  assert.match(listing, /usr\/local\/bin\/cook/);
});

test('create fails: exit 1, the message names create, no pot and no artifact are left', async () => {
  const s = sandbox();
  const r = await s.build([], { POT_STANDIN_FAIL: 'create' });
  assert.equal(r.code, 1);
  const errors = oneLineError(r.stderr);
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, /^pot-image: create failed: .*pot create -p matrix-synapse-nomad-amd64-14_5/);
  assert.deepEqual(s.pots(), []);
  assert.deepEqual(s.outputFiles(), [`${POT_NAME}_${TAG}.build.log`]);
});

test('a failure after create (snapshot) makes cleanup destroy the pot itself', async () => {
  const s = sandbox();
  const r = await s.build([], { POT_STANDIN_FAIL: 'snapshot' });
  assert.equal(r.code, 1);
  assert.match(oneLineError(r.stderr)[0]!, /^pot-image: snapshot failed: /);
  assert.ok(s.calls().includes(`pot destroy -F -p ${POT_NAME}`), s.calls().join('\n'));
  assert.deepEqual(s.pots(), []);
  assert.deepEqual(s.outputFiles(), [`${POT_NAME}_${TAG}.build.log`]);
});

test('--keep keeps the pot after a failure and says how to remove it; --verbose streams command output', async () => {
  const s = sandbox();
  const r = await s.build(['--keep', '--verbose'], { POT_STANDIN_FAIL: 'snapshot' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`===> pot ${POT_NAME} created`), 'pot create output on the terminal');
  assert.deepEqual(s.pots(), [POT_NAME]);
  assert.match(r.stderr, new RegExp(`pot destroy -F -p ${POT_NAME}`));
});

test('SIGINT during create: the running pot is stopped, the pot destroyed, exit non-zero, no artifacts', async () => {
  const s = sandbox();
  const r = await s.build([], { POT_STANDIN_HANG: 'create' }, {
    onSpawn: (child) => {
      // Twice, as under `npm run` (terminal process group + npm forwarding): cleanup must still run.
      waitForLine(s.potLog, /hanging in create/).then(() => { child.kill('SIGINT'); child.kill('SIGINT'); }, () => child.kill('SIGKILL'));
    },
  });
  assert.equal(r.code, 130, r.stderr);
  assert.match(oneLineError(r.stderr)[0]!, /^pot-image: build interrupted by SIGINT during create; the build pot was destroyed/);
  assert.ok(s.calls().includes(`pot destroy -F -p ${POT_NAME}`));
  assert.deepEqual(s.pots(), []);
  assert.deepEqual(s.outputFiles(), [`${POT_NAME}_${TAG}.build.log`]);
  assert.ok(!s.calls().some((l) => l.startsWith('pot snapshot')), 'no step ran after the interrupt');
});

test('SIGTERM while create has made the dataset but no configuration: cleanup still destroys it (pot destroy -F)', async () => {
  const s = sandbox();
  const r = await s.build([], { POT_STANDIN_HANG: 'create-half' }, {
    onSpawn: (child) => {
      waitForLine(s.potLog, /hanging in create-half/).then(() => child.kill('SIGTERM'), () => child.kill('SIGKILL'));
    },
  });
  assert.equal(r.code, 143, r.stderr);
  assert.ok(s.calls().includes(`pot destroy -F -p ${POT_NAME}`), 'cleanup forced the destroy');
  assert.deepEqual(s.pots(), [], 'no half-created pot left');
});

test('export exits 0 without its files: the check step fails the build', async () => {
  const s = sandbox();
  const r = await s.build([], { POT_STANDIN_EXPORT_NO_FILES: '1' });
  assert.equal(r.code, 1);
  assert.match(oneLineError(r.stderr)[0]!, /^pot-image: check failed: pot export exited 0 but did not write matrix-synapse-nomad-amd64-14_5_1\.2\.3\.xz/);
  assert.deepEqual(s.pots(), []);
  assert.deepEqual(s.outputFiles(), [`${POT_NAME}_${TAG}.build.log`]);
});

test('not FreeBSD: preflight stops with one line that suggests --dry-run', async () => {
  const s = sandbox();
  const r = await s.build([], { POT_STANDIN_UNAME_S: 'Linux' });
  assert.equal(r.code, 1);
  const errors = oneLineError(r.stderr);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /preflight failed: this host runs Linux, not FreeBSD: .*--dry-run/);
  assert.ok(!s.calls().some((l) => l.startsWith('pot create')));
});

test('preflight reports every problem at once, each with its fix', async () => {
  const s = sandbox();
  const r = await s.build([], {
    POT_STANDIN_UID: '1001',
    POT_STANDIN_ZFS_MISSING: '1',
    POT_STANDIN_NO_MANIFESTS: '1',
    POT_STANDIN_NO_VIMAGE: '1',
  });
  assert.equal(r.code, 1);
  const [line] = oneLineError(r.stderr);
  assert.match(line!, /preflight failed: 4 problems on this builder:/);
  assert.match(line!, /\(1\) not running as root: run it as root/);
  assert.match(line!, /\(2\) pot is not initialised \(no ZFS dataset zroot\/pot\): pot init/);
  assert.match(line!, /\(3\) freebsd-release-manifests is not installed .*: pkg install freebsd-release-manifests/);
  assert.match(line!, /\(4\) the kernel has no VIMAGE .*public-bridge.*: boot a GENERIC kernel .*or pass --network inherit/);
  assert.ok(!s.calls().some((l) => l.startsWith('pot create')));
});

test('a pot left over from an earlier build and an unknown release are preflight problems', async () => {
  const s = sandbox();
  execFileSync(join(s.env.PATH.split(':')[1]!, 'pot'), ['create', '-p', POT_NAME, '-t', 'single', '-b', '14.5'], { env: { ...process.env, ...s.env } });
  const r = await s.build([], { POT_STANDIN_RELEASES: '14.3 15.0' });
  assert.equal(r.code, 1);
  const [line] = oneLineError(r.stderr);
  assert.match(line!, new RegExp(`a pot named ${POT_NAME} is left over from an earlier build: pot destroy -F -p ${POT_NAME}`));
  assert.match(line!, /pot does not know FreeBSD 14\.5 on amd64 \(known: 14\.3, 15\.0\)/);
  assert.deepEqual(s.pots(), [POT_NAME], 'a pot the build did not create is never destroyed');
});

test('a second build of the same tag refuses to overwrite the first one\'s artifacts', async () => {
  const s = sandbox();
  assert.equal((await s.build()).code, 0);
  const before = readFileSync(join(s.output, artifactNames()[2]!), 'utf8');
  const r = await s.build();
  assert.equal(r.code, 1);
  assert.match(oneLineError(r.stderr)[0]!, /already exists from an earlier build of 1\.2\.3: rm -f .* or bump the version/);
  assert.equal(readFileSync(join(s.output, artifactNames()[2]!), 'utf8'), before, 'earlier artifacts untouched');
  assert.ok(existsSync(join(s.output, artifactNames()[0]!)));
});

test('the real flavours/ build end to end (their scripts recorded, not run: they expect a FreeBSD jail)', { skip: !existsSync(join(PROJECT_ROOT, 'flavours', 'matrix-synapse-nomad')) && 'flavours/ not there yet' }, async () => {
  const s = sandbox();
  // The real payload records the definition's version (flavours/…/image-version), so build at that version.
  const version = readFileSync(join(PROJECT_ROOT, 'flavours', 'matrix-synapse-nomad.d', 'image-version'), 'utf8').trim();
  const r = await s.build(['--flavour-dir', join(PROJECT_ROOT, 'flavours')], { POT_STANDIN_SCRIPTS: 'record' }, { version });
  assert.equal(r.code, 0, r.stderr);
  const create = s.calls().find((l) => l.startsWith('pot create'))!;
  assert.match(create, / -f fbsd-update -f matrix-synapse-nomad( -f matrix-synapse-nomad\+[123])* -f matrix-synapse-nomad\+4$/);
  assert.ok(s.calls().some((l) => l === `  jexec ${POT_NAME} /tmp/matrix-synapse-nomad.sh ${POT_NAME}`));
  assert.ok(existsSync(join(s.installDir, 'matrix-synapse-nomad.d', 'cook')), 'payload staged flat into the flavour folder');
  const listing = execFileSync('sh', ['-c', `xz -dc "$1" | tar -tf -`, 'sh', join(s.output, artifactNames(POT_NAME, version)[0]!)], { encoding: 'utf8' });
  assert.match(listing, /matrix-synapse-nomad\.d\/cook/);
});

test('a signing key that cannot sign is a preflight problem, before anything is built', async () => {
  const s = sandbox();
  const badKey = join(s.dir, 'bad.sec');
  writeFileSync(badKey, 'not a key\n');
  const r = await s.build(['--sign-key', badKey]);
  assert.equal(r.code, 1);
  assert.match(oneLineError(r.stderr)[0]!, /^pot-image: preflight failed: 1 problem on this builder: \(1\) .*bad\.sec/);
  assert.ok(!s.calls().some((l) => l.startsWith('pot create')));
});

test('a failure after the files reached their final names (publish) removes them again', async () => {
  const s = sandbox();
  const port = await freePort(); // nothing listens there
  const r = await s.build(['--publish-to', `http://127.0.0.1:${port}/images/`], {}, { publish: true });
  assert.equal(r.code, 1);
  assert.match(oneLineError(r.stderr)[0]!, /^pot-image: publish failed: /);
  assert.ok(s.calls().some((l) => l.startsWith('pot export')), 'the export had happened');
  assert.deepEqual(s.outputFiles(), [`${POT_NAME}_${TAG}.build.log`]);
  assert.deepEqual(s.pots(), []);
});

test('SIGTERM during export: exit 143, the partial export and the pot are gone', async () => {
  const s = sandbox();
  const r = await s.build([], { POT_STANDIN_HANG: 'export' }, {
    onSpawn: (child) => {
      waitForLine(s.potLog, /hanging in export/).then(() => child.kill('SIGTERM'), () => child.kill('SIGKILL'));
    },
  });
  assert.equal(r.code, 143, r.stderr);
  assert.match(oneLineError(r.stderr)[0]!, /^pot-image: build interrupted by SIGTERM during export; the build pot was destroyed/);
  assert.deepEqual(s.outputFiles(), [`${POT_NAME}_${TAG}.build.log`], 'no staging folder, no artifacts');
  assert.deepEqual(s.pots(), []);
});

test('a version the CHANGELOG does not name is refused before anything runs (exit 2, one line)', async () => {
  const s = sandbox();
  const r = await s.build(['--version', '9.9.9']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(oneLineError(r.stderr)[0]!, /version mismatch: the image definition says 9\.9\.9 but the top entry of .*CHANGELOG\.md is 1\.2\.3/);
  assert.ok(!s.calls().some((l) => l.startsWith('pot create')), 'nothing was created');
  assert.deepEqual(s.outputFiles().filter((f) => f.includes('.xz')), []);
});

test('unchanged inputs since the last published tag: "nothing built", exit 0, before pot create; --rebuild builds', async () => {
  const s = sandbox();
  const first = await s.build([], {}, { publish: true });
  assert.equal(first.code, 0, first.stderr);
  assert.ok(existsSync(join(s.repo, `${POT_NAME}_${TAG}.xz.skein`)), 'the first build is published');

  const callsBefore = s.calls().length;
  const again = await s.build([], {}, { publish: true, version: '1.2.4' });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^nothing built: the inputs .* are unchanged since the published 1\.2\.3; nothing to do\. Pass --rebuild/m);
  assert.doesNotMatch(again.stdout, /^built /m);
  assert.ok(!s.calls().slice(callsBefore).some((l) => l.startsWith('pot create')), 'stopped before pot create');
  assert.deepEqual(s.outputFiles().filter((f) => f.includes('1.2.4') && !f.endsWith('.build.log')), [], 'no artifact of the new tag');

  const rebuilt = await s.build(['--rebuild'], {}, { publish: true, version: '1.2.4' });
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.ok(existsSync(join(s.repo, `${POT_NAME}_1.2.4.xz.skein`)), '--rebuild builds and publishes the new tag');
});

test('a smoke-test clone left by a crashed build stops preflight (it would pin the snapshot and fail the cleanup)', async () => {
  const s = sandbox();
  const pot = (...args: string[]) => execFileSync(join(PROJECT_ROOT, 'test', 'stand-ins', 'pot'), args, { env: { ...process.env, ...s.env }, encoding: 'utf8' });
  pot('create', '-p', 'leftover', '-t', 'single', '-b', '14.5');
  pot('snapshot', '-p', 'leftover');
  pot('clone', '-P', 'leftover', '-p', `${POT_NAME}-smoke-0a0b0c`);
  const r = await s.build();
  assert.equal(r.code, 1);
  assert.match(oneLineError(r.stderr)[0]!, new RegExp(`smoke-test clone ${POT_NAME}-smoke-0a0b0c left over from an earlier build: pot destroy -F -p ${POT_NAME}-smoke-0a0b0c`));
  assert.ok(!s.calls().some((l) => l.startsWith(`pot create -p ${POT_NAME}`)), 'nothing was built');
});
