// The CI and release workflows, parsed with the yaml package: triggers, Node versions, and that
// the release builds on FreeBSD with pot on ZFS, signs with a secret key it removes, publishes,
// verifies as a client and attaches the artifacts. Also: actionlint and shellcheck on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

type Obj = Record<string, any>;
const load = (name: string): Obj => parseYaml(readFileSync(join(PROJECT_ROOT, '.github', 'workflows', name), 'utf8')) as Obj;
const ci = load('ci.yml');
const release = load('release.yml');
const steps = (job: Obj): Obj[] => job.steps as Obj[];
const allRun = (job: Obj): string => steps(job).map((s) => `${s.run ?? ''}\n${s.with?.prepare ?? ''}\n${s.with?.run ?? ''}`).join('\n');

test('ci.yml: push and pull_request, Node 20 and 22 on Ubuntu, the README test command', () => {
  assert.ok('push' in ci.on && 'pull_request' in ci.on, 'triggers push and pull_request');
  const job = ci.jobs.test as Obj;
  assert.match(String(job['runs-on']), /^ubuntu-/);
  assert.deepEqual(job.strategy.matrix.node.map(String).sort(), ['20', '22']);
  const setup = steps(job).find((s) => String(s.uses).startsWith('actions/setup-node@'));
  assert.equal(setup?.with?.['node-version'], '${{ matrix.node }}');
  const run = allRun(job);
  // .ci/run runs exactly the test command the README gives a newcomer
  assert.match(run, /bash \.ci\/run/);
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const testCommand = /^(.*npm ci && npm test)$/m.exec(readme)?.[1];
  assert.ok(testCommand, 'the README gives a test command');
  assert.ok(readFileSync(join(PROJECT_ROOT, '.ci', 'run'), 'utf8').split('\n').includes(testCommand), `.ci/run runs: ${testCommand}`);
});

test('release.yml: v* tags publish, workflow_dispatch builds without publishing', () => {
  assert.deepEqual(release.on.push.tags, ['v*']);
  assert.ok('workflow_dispatch' in release.on);
  assert.equal(release.on.push.branches, undefined, 'a branch push does not release');
  const job = release.jobs.release as Obj;
  assert.equal(job.env.PUBLISH, "${{ github.event_name == 'push' && github.ref_type == 'tag' }}");
  const run = allRun(job);
  assert.match(run, /if \[ "\$PUBLISH" = true \]; then\n\s+set -- "\$@" --to "\$POT_IMAGE_PUBLISH_TO" --public-url "\$POT_IMAGE_PUBLIC_URL"\n\s*else\n\s*set -- "\$@" --no-publish/);
  const attach = steps(job).find((s) => /gh release create/.test(s.run ?? ''));
  assert.equal(attach?.if, "env.PUBLISH == 'true'");
});

test('release.yml: versions checked, npm run build-image on FreeBSD with pot on a ZFS pool', () => {
  const job = release.jobs.release as Obj;
  assert.match(String(job['runs-on']), /^ubuntu-/);
  const all = steps(job);
  const versions = all.findIndex((s) => /check-version --tag "\$GITHUB_REF_NAME"/.test(s.run ?? ''));
  const vm = all.findIndex((s) => String(s.uses).startsWith('vmactions/freebsd-vm@'));
  assert.ok(versions >= 0 && vm > versions, 'check-version runs before the VM build');
  const prepare = String(all[vm]?.with?.prepare);
  assert.match(prepare, /pkg install -y [^\n]*\bpot\b/);
  assert.match(prepare, /zpool create potpool /);
  assert.match(prepare, /POT_ZFS_ROOT=potpool\/pot/);
  assert.match(prepare, /pot init/);
  const vmRun = String(all[vm]?.with?.run);
  assert.match(vmRun, /npm run build-image -- "\$@"/);
  assert.match(vmRun, /--require-signature/);
  // verify from the public URL as a client: pot import with the public key
  assert.match(vmRun, /pot import -p "\$potname" -t "\$tag" -U "\$POT_IMAGE_PUBLIC_URL" -C /);
});

test('release.yml: the signing key comes from a secret, lives on tmpfs, is removed after', () => {
  const job = release.jobs.release as Obj;
  const vmStep = steps(job).find((s) => String(s.uses).startsWith('vmactions/freebsd-vm@')) as Obj;
  // Key material only in the steps that use it: never in the job's env, where `npm ci` would see it.
  for (const name of ['POT_SIGN_KEY_B64', 'POT_IMAGE_KEY_PASSPHRASE', 'POT_IMAGE_REPO_PASSWORD', 'POT_IMAGE_REPO_TOKEN', 'POT_BUILDER_SSH_KEY']) {
    assert.equal(job.env[name], undefined, `${name} is not job-wide`);
    for (const s of steps(job)) if (/npm ci/.test(String(s.run ?? ''))) assert.equal((s.env as Obj | undefined)?.[name], undefined, `${name} not in a step running npm ci`);
  }
  assert.equal(vmStep.env.POT_SIGN_KEY_B64, '${{ secrets.POT_SIGN_KEY_B64 }}');
  assert.equal(vmStep.env.POT_IMAGE_KEY_PASSPHRASE, '${{ secrets.POT_IMAGE_KEY_PASSPHRASE }}');
  // Where npm ci runs next to secrets (inside the VM), dependencies' install scripts do not run.
  for (const s of steps(job)) {
    const text = `${String(s.run ?? '')}\n${String((s.with as Obj | undefined)?.run ?? '')}`;
    for (const line of text.split('\n').filter((l) => /\bnpm ci\b/.test(l))) assert.match(line, /npm ci --ignore-scripts/, line);
  }
  assert.ok(String(vmStep.with.envs).split(/\s+/).includes('POT_SIGN_KEY_B64'));
  const run = String(vmStep.with.run);
  const mount = run.indexOf('mount -t tmpfs');
  const trap = run.indexOf('trap cleanup EXIT');
  const write = run.indexOf('> "$keydir/image.sec"');
  assert.ok(mount >= 0 && trap > mount && write > trap, 'tmpfs mounted and cleanup trapped before the key is written');
  assert.match(run, /cleanup\(\) \{ rm -Pf "\$keydir"\/\*; umount "\$keydir"/);
  // no secret is interpolated into a script (they travel as environment variables)
  for (const s of steps(job)) {
    for (const text of [s.run, s.with?.run, s.with?.prepare]) assert.doesNotMatch(String(text ?? ''), /\$\{\{\s*secrets\./);
  }
});

test('release.yml: the four files, the build log and the JSON summary go to the release', () => {
  const job = release.jobs.release as Obj;
  const attach = String(steps(job).find((s) => /gh release create/.test(s.run ?? ''))?.run);
  assert.match(attach, /gh release create "\$GITHUB_REF_NAME" .*"\$@"/);
  assert.match(attach, /gh release upload "\$GITHUB_REF_NAME" --clobber "\$@"/);
  for (const glob of ['out/*.xz ', 'out/*.xz.meta', 'out/*.xz.skein ', 'out/*.xz.skein.sig', 'out/*.build.log', 'out/*.summary.json']) {
    assert.ok(attach.includes(glob), `attaches ${glob.trim()}`);
  }
});

test('actionlint finds nothing in the workflows, and does find a broken one', () => {
  const lint = (args: string[]) => spawnSync(process.execPath, [join(PROJECT_ROOT, '.ci', 'actionlint.mjs'), ...args], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  const ok = lint([]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /2 workflow files, 0 findings/);
  const bad = join(tempDir(), 'bad.yml');
  writeFileSync(bad, 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n');
  const r = lint([bad]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.yml:6:\d+: .*no_such_thing/);
});

test('shellcheck passes the workflow scripts', (t) => {
  if (spawnSync('shellcheck', ['--version']).status !== 0) {
    t.skip('shellcheck is not installed (.ci/run installs it)');
    return;
  }
  const scripts: Array<[string, string, string]> = [];
  for (const [file, wf] of [['ci.yml', ci], ['release.yml', release]] as const) {
    for (const [jobName, job] of Object.entries(wf.jobs as Obj)) {
      steps(job as Obj).forEach((s, i) => {
        if (s.run) scripts.push([`${file} ${jobName} step ${i + 1}`, 'bash', String(s.run)]);
        // vmactions runs prepare and run with sh in the VM
        if (s.with?.prepare) scripts.push([`${file} ${jobName} step ${i + 1} prepare`, 'sh', String(s.with.prepare)]);
        if (s.with?.run) scripts.push([`${file} ${jobName} step ${i + 1} run`, 'sh', String(s.with.run)]);
      });
    }
  }
  assert.ok(scripts.length >= 5);
  for (const [where, shell, text] of scripts) {
    const r = spawnSync('shellcheck', ['-s', shell, '-'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, `${where}:\n${r.stdout}`);
  }
});

test('release.yml: with POT_BUILDER_* secrets the build runs on that builder over SSH; the VM path stays for projects without one', () => {
  const job = release.jobs.release as Obj;
  for (const name of ['POT_BUILDER_HOST', 'POT_BUILDER_USER']) {
    assert.equal(job.env[name], `\${{ secrets.${name} }}`, name);
  }
  const remote = steps(job).find((s) => /--builder "ssh:\/\/\$POT_BUILDER_USER@/.test(String(s.run ?? ''))) as Obj;
  assert.ok(remote, 'a step builds with --builder ssh://…');
  for (const name of ['POT_BUILDER_SSH_KEY', 'POT_BUILDER_KNOWN_HOSTS']) {
    assert.equal(remote.env[name], `\${{ secrets.${name} }}`, name);
  }
  assert.equal(remote.if, "env.POT_BUILDER_HOST != ''");
  const vm = steps(job).find((s) => String(s.uses).startsWith('vmactions/freebsd-vm@')) as Obj;
  assert.equal(vm.if, "env.POT_BUILDER_HOST == ''");
  const run = String(remote.run);
  // strict host keys from the secret, the key files removed whatever happens, signing here
  assert.match(run, /UserKnownHostsFile \$secrets\/known_hosts/);
  assert.ok(run.indexOf('trap ') < run.indexOf('> "$secrets/builder_key"'), 'cleanup trapped before any key is written');
  assert.match(run, /--secret-key "\$secrets\/image\.sec" .*--require-signature/);
  assert.match(run, /export POT_IMAGE_SSH_CONFIG=/);
  assert.match(run, /--release "\$FREEBSD_RELEASE"/);
});

test('release.yml: one job per release of the definition, each on a FreeBSD VM of that release, Node 22, free space shown', () => {
  const list = release.jobs.releases as Obj;
  assert.match(allRun(list), /loadDefinitions\(\)\.map\(\(d\) => d\.freebsd\.potRelease\)/);
  const job = release.jobs.release as Obj;
  assert.equal(job.needs, 'releases');
  assert.equal(job.strategy.matrix.freebsd, '${{ fromJSON(needs.releases.outputs.list) }}');
  const vm = steps(job).find((s) => String(s.uses).startsWith('vmactions/freebsd-vm@')) as Obj;
  assert.equal(vm.with.release, '${{ matrix.freebsd }}', "the VM's release is the jail's, so never older");
  assert.match(String(vm.with.run), /--release "\$FREEBSD_RELEASE"/);
  assert.match(String(vm.with.prepare), /zfs list -o name,used,avail -r potpool/);
  assert.ok(steps(job).some((s) => String(s.uses).startsWith('actions/setup-node@') && String(s.with?.['node-version']) === '22'));
});
