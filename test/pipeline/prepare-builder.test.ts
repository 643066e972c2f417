// scripts/prepare-builder.sh: lint-clean, and its --dry-run shows every step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/cli.js';

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'prepare-builder.sh');

test('shellcheck finds nothing', { skip: spawnSync('sh', ['-c', 'command -v shellcheck']).status !== 0 && 'shellcheck not installed' }, () => {
  const r = spawnSync('shellcheck', [SCRIPT], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout);
});

test('--dry-run prints the packages, pot.conf, pot init and the next commands', () => {
  const r = spawnSync('sh', [SCRIPT, '--dry-run', '--pool', 'tank', '--extif', 'vtnet0', '--node-pkg', 'node20'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^pkg install -y pot freebsd-release-manifests node20 npm-node20 git signify$/m);
  assert.match(r.stdout, /^echo 'POT_ZFS_ROOT=tank\/pot' >> \/usr\/local\/etc\/pot\/pot\.conf$/m);
  assert.match(r.stdout, /^echo 'POT_EXTIF=vtnet0' >>/m);
  assert.match(r.stdout, /^pot init$/m);
  assert.match(r.stdout, /npm run build-image -- --dry-run/);
});

test('refuses a non-FreeBSD host (without --dry-run) and unknown options with one line', { skip: process.platform === 'freebsd' && 'this is FreeBSD' }, () => {
  const r = spawnSync('sh', [SCRIPT], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^prepare-builder: this is \w+, not FreeBSD: run it on the builder \(or pass --dry-run to read the steps\)\n$/);
  const u = spawnSync('sh', [SCRIPT, '--bogus'], { encoding: 'utf8' });
  assert.equal(u.status, 2);
  assert.match(u.stderr, /unknown option '--bogus'/);
});

test('--dry-run also adds the group pot when missing and checks free space on pot\'s ZFS root', () => {
  const r = spawnSync('sh', [SCRIPT, '--dry-run', '--pool', 'tank', '--extif', 'vtnet0'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^zfs list -H -p -o avail tank\/pot {3}# needs 4294967296 bytes \(4 GiB\) free$/m);
  const init = r.stdout.indexOf('pot init');
  assert.ok(r.stdout.indexOf('zfs list -H -p -o avail') > init, 'after pot init made the dataset');
});
