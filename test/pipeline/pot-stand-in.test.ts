// The pot stand-in follows pot's contract (pot-contract.md): argument checks,
// flavour lines and scripts in order, the export files with pot's naming and
// hashing, -S signing of the .skein, -c tag checks, the known export defect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skein1024Hex } from '../../pipeline/artifacts/skein1024.js';
import { tempDir } from '../helpers/tmp.js';
import { STAND_INS, sandbox } from './builder-sandbox.js';

const POT = join(STAND_INS, 'pot');

function potIn(s: ReturnType<typeof sandbox>, extraEnv: Record<string, string> = {}) {
  return (...args: string[]) => {
    const r = spawnSync(POT, args, { env: { ...process.env, ...s.env, ...extraEnv }, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
}

function stageFixture(s: ReturnType<typeof sandbox>): void {
  const src = join(STAND_INS, '..', 'fixtures', 'flavours');
  spawnSync('cp', ['-Rp', `${src}/.`, s.installDir]);
}

test('create validates its arguments like pot (errors as ###> lines on stdout, exit 1)', () => {
  const s = sandbox();
  const pot = potIn(s);
  const refused = (r: ReturnType<typeof pot>, re: RegExp) => { assert.equal(r.code, 1, r.out); assert.match(r.out, re); };
  refused(pot('create', '-p', 'a.b', '-t', 'single', '-b', '13.0'), /^###> {2}a\.b is not a valid name for a pot/);
  refused(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0', '-N', 'bridge'), /###> {2}Network type bridge not recognized\npot create \[-hv\]/);
  refused(pot('create', '-p', 'a', '-t', 'single', '-b', '13.9'), /13\.9 is not a valid release/);
  refused(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0', '-f', 'nope'), /Flavour nope not found/);
  refused(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0', '-N', 'alias'), /option -i is mandatory with network type is alias/);
  refused(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0', '-N', 'alias', '-i', 'auto'), /-i auto not usable with network type alias/);
  refused(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0', '-N', 'private-bridge'), /private-bridge network type requires -B option/);
  refused(pot('create', '-t', 'single', '-b', '13.0'), /pot name is missing/);
  const bad = pot('create', '-p', 'a', '-t', 'single', '-b', '13.0', '-Z');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /illegal option -- Z/);
  assert.equal(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0').code, 0);
  refused(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0'), /pot a already exists/);
  assert.equal(pot('info', '-q', '-p', 'a').code, 0);
  const unknown = pot('info', '-q', '-p', 'b');
  assert.equal(unknown.code, 1);
  assert.doesNotMatch(unknown.out, /###>/, '-q silences the error line (the help still comes)');
  assert.equal(pot('version', '-q').out, '0.16.0\n', "0.16.0 and 0.16.1 both print 0.16.0");
  assert.equal(pot('version').out, 'pot version: 0.16.0\n');
  assert.equal(pot('config', '-q', '-g', 'zfs_root').out, 'zroot/pot\n');
  assert.equal(pot('config', '-g', 'zfs_root').out, 'zfs_root = zroot/pot\n');
  assert.equal(pot('config', '-q', '-g', 'fs_root').out, `${s.potRoot}\n`);
  assert.equal(pot('config', '-q', '-g', 'nope').code, 1);
  refused(pot('frobnicate'), /^Usage: pot command \[options\]/);
});

test('before `pot init` (no POT_FS_ROOT) every sub-command but version fails', () => {
  const s = sandbox();
  rmSync(s.potRoot, { recursive: true });
  const pot = potIn(s);
  for (const args of [['config', '-q', '-g', 'zfs_root'], ['info', '-q', '-p', 'a'], ['create', '-p', 'a', '-t', 'single', '-b', '13.0']]) {
    const r = pot(...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.err, /does not exist, please run 'pot init'/);
  }
  assert.equal(pot('version', '-q').code, 0);
});

test('the smoke-test sub-commands follow pot: clone needs a snapshot, info -E, set-attribute checks, start/stop/destroy exit codes', () => {
  const s = sandbox();
  const pot = potIn(s);
  assert.equal(pot('create', '-p', 'base', '-t', 'single', '-b', '14.3', '-N', 'public-bridge').code, 0);
  const noSnap = pot('clone', '-P', 'base', '-p', 'c');
  assert.equal(noSnap.code, 1);
  assert.match(noSnap.out, /base\/m has no snap - please take a snapshot of base/);
  assert.equal(pot('snapshot', '-p', 'base').code, 0);
  assert.match(pot('clone', '-P', 'base', '-p', 'c', '-N', 'alias').out, /option -i is mandatory with network type is alias/);
  assert.equal(pot('clone', '-P', 'base', '-p', 'c', '-i', '10.192.0.9').code, 0);
  assert.equal(pot('info', '-p', 'c', '-E').out, 'export _POT_NAME=c\nexport _POT_IP=10.192.0.9\n');
  assert.equal(pot('set-attribute', '-p', 'c', '-A', 'persistent', '-V', 'off').code, 0);
  assert.match(pot('set-attribute', '-p', 'c', '-A', 'persistent', '-V', '1').out, /value 1 is not a valid boolean value/);
  assert.match(pot('set-attribute', '-p', 'c', '-A', 'persist', '-V', 'NO').out, /persist is not a valid attribute/);
  assert.match(pot('set-env', '-p', 'c', '-E', 'NOVALUE').out, /NOVALUE not in a valid form/);
  assert.match(pot('stop', '-p', 'c').out, /pot c is not in a state where it can be stopped/, 'never started: stop exits 1');
  assert.equal(pot('stop', '-p', 'c').code, 1);
  const gone = pot('stop', '-p', 'nope');
  assert.equal(gone.code, 0, 'pot stop of an unknown pot complains but exits 0');
  assert.match(gone.out, /The pot nope is not a valid pot/);
  const died = potIn(s, { POT_STANDIN_START_EXIT: '3' })('start', '-p', 'c');
  assert.equal(died.code, 125, 'a non-persistent pot whose command fails: 125');
  assert.equal(pot('stop', '-p', 'c').code, 0, 'stopping a stopped pot is fine');
  assert.equal(pot('set-attribute', '-p', 'base', '-A', 'persistent', '-V', 'YES').code, 0);
  assert.equal(pot('start', 'base').code, 0, 'a persistent pot: start returns');
  assert.equal(pot('start', '-p', 'base').code, 0, 'already running: still exit 0');
  assert.match(pot('snapshot', '-p', 'base').out, /still running\. Snapshot is possible only for stopped pots/);
  assert.equal(pot('stop', 'base').code, 0);
  const pinned = pot('destroy', '-p', 'base');
  assert.equal(pinned.code, 1, 'a clone pins the snapshot: zfs destroy -r refuses');
  assert.match(pinned.out, /base destruction failed/);
  assert.equal(pot('destroy', '-F', '-p', 'c').code, 0);
  assert.equal(pot('destroy', '-p', 'base').code, 0);
  assert.match(pot('destroy', '-p', 'base').out, /pot base not found or corrupted\. Try to use the -F flag/);
});

test('flavours run in order: command-file lines (invalid ones ignored), then the script; a failing script destroys the pot unless -k', () => {
  const s = sandbox();
  stageFixture(s);
  const pot = potIn(s);
  const r = pot('create', '-p', 'b', '-t', 'single', '-b', '14.3', '-f', 'fbsd-update', '-f', 'matrix-synapse-nomad', '-f', 'matrix-synapse-nomad+4');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /###> {2}Flavor matrix-synapse-nomad: line set-attr -A no-such -V line not valid - ignoring/);
  const jail = join(s.potRoot, 'jails', 'b', 'm');
  assert.equal(readFileSync(join(jail, 'var', 'log', 'flavours.log'), 'utf8'), 'fbsd-update.sh b\nmatrix-synapse-nomad.sh b\n');
  assert.ok(existsSync(join(jail, 'usr', 'local', 'etc', 'fixture', 'example.yaml')), 'directory copy-in');
  const state = JSON.parse(readFileSync(join(s.potRoot, 'jails', 'b', 'conf', 'state.json'), 'utf8'));
  assert.equal(state.cmd, '/usr/local/bin/cook');
  assert.deepEqual(state.attributes, { persistent: 'NO' }, 'pot stores boolean attributes as YES/NO');

  writeFileSync(join(s.installDir, 'broken.sh'), 'exit 3\n');
  const f = pot('create', '-p', 'c', '-t', 'single', '-b', '14.3', '-f', 'broken');
  assert.equal(f.code, 1);
  assert.match(f.out, /create: flavour broken failed \(script\)/);
  assert.equal(existsSync(join(s.potRoot, 'jails', 'c')), false);
  assert.equal(pot('create', '-k', '-p', 'd', '-t', 'single', '-b', '14.3', '-f', 'broken').code, 1);
  assert.ok(existsSync(join(s.potRoot, 'jails', 'd')), '-k keeps the half-built pot');
});

test('export writes .xz, .meta "-" and the Skein-1024 of .xz+.meta; -S signs the .skein with signify', { skip: !spawnSync('sh', ['-c', 'command -v signify-openbsd']).stdout.length && 'signify-openbsd not installed' }, () => {
  const s = sandbox();
  const pot = potIn(s);
  const out = join(s.dir, 'exp');
  mkdirSync(out);
  pot('create', '-p', 'e', '-t', 'single', '-b', '14.3');
  assert.match(pot('export', '-p', 'e', '-t', '1.0.0', '-D', out).out, /has no snapshots/);
  pot('snapshot', '-p', 'e');
  assert.match(pot('export', '-p', 'e', '-t', '1.0.0', '-D', out, '-l', '10').out, /10 is an invalid compression level/);
  assert.match(pot('export', '-p', 'e', '-t', '1.0.0', '-D', join(s.dir, 'nodir')).out, /is not a directory/);

  const keys = tempDir();
  const gen = spawnSync('signify-openbsd', ['-G', '-n', '-p', join(keys, 'k.pub'), '-s', join(keys, 'k.sec')]);
  assert.equal(gen.status, 0, String(gen.stderr));
  const r = pot('export', '-p', 'e', '-t', '1.0.0', '-c', '-l', '1', '-D', out, '-S', join(keys, 'k.sec'));
  assert.equal(r.code, 0, r.err);
  const f = join(out, 'e_1.0.0.xz');
  assert.equal(readFileSync(`${f}.meta`, 'utf8'), '-\n');
  const expected = skein1024Hex(Buffer.concat([readFileSync(f), readFileSync(`${f}.meta`)]));
  assert.equal(readFileSync(`${f}.skein`, 'utf8'), `${expected}\n`);
  const verify = spawnSync('signify-openbsd', ['-V', '-p', join(keys, 'k.pub'), '-x', `${f}.skein.sig`, '-m', `${f}.skein`]);
  assert.equal(verify.status, 0, String(verify.stderr));

  // -c: a lower tag is refused; the same tag is fine for the same snapshot
  assert.match(pot('export', '-p', 'e', '-t', '0.9.0', '-c', '-D', out).out, /Tag version lower than the previously exported one/);
  assert.equal(pot('export', '-p', 'e', '-t', '1.0.0', '-c', '-D', tempDir()).code, 0);
  pot('snapshot', '-p', 'e');
  assert.match(pot('export', '-p', 'e', '-t', '1.1.0', '-D', out).out, /more than 1 snapshot/);
  assert.match(pot('export', '-p', 'e', '-t', '1.0.0', '-c', '-A', '-D', tempDir()).out, /Already exported a different snapshot tagged as this version/);
});

test('failure injection: FAIL, EXPORT_NO_FILES (exit 0, no files); every call is logged', () => {
  const s = sandbox();
  const out = join(s.dir, 'exp');
  mkdirSync(out);
  const pot = potIn(s);
  pot('create', '-p', 'f', '-t', 'single', '-b', '14.3');
  pot('snapshot', '-p', 'f');
  assert.equal(potIn(s, { POT_STANDIN_FAIL: 'destroy' })('destroy', '-p', 'f').code, 1);
  const r = potIn(s, { POT_STANDIN_EXPORT_NO_FILES: '1' })('export', '-p', 'f', '-t', '1.0.0', '-D', out);
  assert.equal(r.code, 0);
  assert.equal(existsSync(join(out, 'f_1.0.0.xz')), false);
  assert.equal(pot('destroy', '-F', '-p', 'f').code, 0);
  assert.match(pot('destroy', '-p', 'f').out, /pot f not found or corrupted/);
  assert.deepEqual(s.calls().filter((l) => l.startsWith('pot ')).map((l) => l.split(' ')[1]), ['create', 'snapshot', 'destroy', 'export', 'destroy', 'destroy']);
});

test('export -A takes the snapshot it needs; the known defect still records the tag, so -c then compares with it', () => {
  const s = sandbox();
  const pot = potIn(s);
  const out = join(s.dir, 'exp');
  mkdirSync(out);
  pot('create', '-p', 'g', '-t', 'single', '-b', '14.3');
  const r = potIn(s, { POT_STANDIN_EXPORT_NO_FILES: '1' })('export', '-p', 'g', '-t', '2.0.0', '-A', '-D', out);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /###> {2}Export failed/);
  assert.deepEqual(readdirSync(out), []);
  assert.match(pot('export', '-p', 'g', '-t', '1.0.0', '-c', '-D', out).out, /Tag version lower than the previously exported one/);
});

test('a flavour command file is read like `while read -r line`: a last line without a newline never runs', () => {
  const s = sandbox();
  writeFileSync(join(s.installDir, 'nonl'), 'set-attribute -A no-rc-script -V YES\nset-cmd -c "/usr/local/bin/cook"');
  const r = potIn(s)('create', '-p', 'h', '-t', 'single', '-b', '14.3', '-f', 'nonl');
  assert.equal(r.code, 0, r.out);
  const state = JSON.parse(readFileSync(join(s.potRoot, 'jails', 'h', 'conf', 'state.json'), 'utf8'));
  assert.deepEqual(state.attributes, { 'no-rc-script': 'YES' });
  assert.equal(state.cmd, undefined, 'the unterminated set-cmd line was not run');
  assert.ok(s.calls().some((l) => /dropped \(no newline at the end of nonl\)/.test(l)));
});

test('create needs its base like pot 0.16.1 (_fetch_freebsd): cached and matching the MANIFEST, or downloaded from ftp.freebsd.org', async () => {
  const { freebsdHost } = await import('../helpers/freebsd-host.js');
  const s = sandbox();
  const host = freebsdHost();
  const pot = potIn(s, host.env);
  const good = host.base('14.5');
  host.manifest('14.5', good.sha);
  // Neither cached nor downloadable: fetch fails twice (pot retries once), create fails and is rolled back.
  let r = pot('create', '-p', 'a', '-t', 'single', '-b', '14.5');
  assert.equal(r.code, 1);
  assert.equal(r.err.match(/fetch: https:\/\/ftp\.freebsd\.org\/pub\/FreeBSD\/releases\/amd64\/amd64\/14\.5-RELEASE\/base\.txz: Not Found/g)?.length, 2);
  assert.match(r.out, /###> {2}FreeBSD 14\.5 fetch failed - try to continue/);
  assert.deepEqual(s.pots(), []);
  // A cached file with another sha256: refused, removed, fetched again (not there): fails.
  host.cache('14.5', host.base('14.5', 'Other').file);
  r = pot('create', '-p', 'a', '-t', 'single', '-b', '14.5');
  assert.equal(r.code, 1);
  assert.match(r.out, /###> {2}sha256 doesn't match! Aborting/);
  assert.ok(!existsSync(join(host.root, 'var/cache/pot/14.5-RELEASE_base.txz')), 'pot removes a cached base that does not match');
  // Downloadable (the test's switch): fetched into the cache, checked, created.
  host.serve('https://ftp.freebsd.org/pub/FreeBSD/releases/amd64/amd64/14.5-RELEASE/base.txz', good.file);
  r = pot('create', '-p', 'a', '-t', 'single', '-b', '14.5');
  assert.equal(r.code, 0, r.out + r.err);
  assert.ok(existsSync(join(host.root, 'var/cache/pot/14.5-RELEASE_base.txz')));
  // No MANIFEST: pot refuses.
  host.cache('15.1', host.base('15.1').file);
  r = pot('create', '-p', 'b', '-t', 'single', '-b', '15.1');
  assert.equal(r.code, 1);
  assert.match(r.out, /No manifests found - please install the package freebsd-release-manifests/);
});

test('the pkg stand-in answers update/rquery/search for a repository, and reports one that is gone', () => {
  const s = sandbox();
  const scratch = tempDir('pkg-scratch-');
  mkdirSync(join(scratch, 'repos'));
  writeFileSync(join(scratch, 'repos', 'FreeBSD-ports.conf'), 'FreeBSD-ports: { url: "pkg+https://pkg.FreeBSD.org/${ABI}/quarterly" }\n');
  const pkg = (env: Record<string, string>, ...args: string[]) => spawnSync(join(STAND_INS, 'builder', 'pkg'), ['-o', 'ABI=FreeBSD:15:amd64', '-o', `REPOS_DIR=${scratch}/repos`, '-o', `PKG_DBDIR=${scratch}/db`, ...args], { env: { ...process.env, ...s.env, ...env }, encoding: 'utf8' });
  assert.equal(pkg({}, 'rquery', '-U', '-r', 'FreeBSD-ports', '-e', '%o == www/nginx', '%n-%v').status, 1, 'no catalogue before update');
  assert.equal(pkg({}, 'update', '-q', '-r', 'FreeBSD').status, 1, 'a repository name the configuration does not define');
  assert.equal(pkg({}, 'update', '-q', '-r', 'FreeBSD-ports').status, 0);
  const hit = pkg({}, 'rquery', '-U', '-r', 'FreeBSD-ports', '-e', '%o == www/nginx', '%n-%v');
  assert.equal(hit.status, 0);
  assert.equal(hit.stdout, 'nginx-1.24.0_12,3\n');
  const miss = pkg({ PKG_STANDIN_REPO_LACKS: 'www/nginx' }, 'rquery', '-U', '-r', 'FreeBSD-ports', '-e', '%o == www/nginx', '%n-%v');
  assert.equal(miss.status, 1);
  assert.equal(miss.stdout, '');
  assert.equal(pkg({ PKG_STANDIN_REPO_LACKS: 'www/nginx' }, 'search', '-r', 'FreeBSD-ports', '-e', '-S', 'origin', '-o', 'www/nginx').stdout, 'No packages found\n');
  const gone = pkg({ PKG_STANDIN_GONE_ABIS: 'FreeBSD:15:amd64' }, 'update', '-q', '-r', 'FreeBSD-ports');
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /Unable to update repository FreeBSD-ports\nError updating repositories!/);
});
