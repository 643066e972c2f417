// The pot stand-in follows pot's contract (pot-contract.md): argument checks,
// flavour lines and scripts in order, the export files with pot's naming and
// hashing, -S signing of the .skein, -c tag checks, the known export defect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

test('create validates its arguments like pot', () => {
  const s = sandbox();
  const pot = potIn(s);
  assert.match(pot('create', '-p', 'a.b', '-t', 'single', '-b', '13.0').err, /not a valid name for a pot/);
  assert.match(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0', '-N', 'bridge').err, /Network type bridge not recognized/);
  assert.match(pot('create', '-p', 'a', '-t', 'single', '-b', '13.9').err, /13\.9 is not a valid release/);
  assert.match(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0', '-f', 'nope').err, /Flavour nope not found/);
  assert.match(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0', '-Z').err, /illegal option -- Z/);
  assert.equal(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0').code, 0);
  assert.match(pot('create', '-p', 'a', '-t', 'single', '-b', '13.0').err, /pot a already exists/);
  assert.equal(pot('info', '-q', '-p', 'a').code, 0);
  assert.equal(pot('info', '-q', '-p', 'b').code, 1);
  assert.equal(pot('version', '-q').out, '0.16.1\n');
  assert.equal(pot('config', '-q', '-g', 'zfs_root').out, 'zroot/pot\n');
  assert.match(pot('frobnicate').err, /not supported/);
});

test('flavours run in order: command-file lines (invalid ones ignored), then the script; a failing script destroys the pot unless -k', () => {
  const s = sandbox();
  stageFixture(s);
  const pot = potIn(s);
  const r = pot('create', '-p', 'b', '-t', 'single', '-b', '14.3', '-f', 'fbsd-update', '-f', 'matrix-synapse-nomad', '-f', 'matrix-synapse-nomad+4');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /line set-attr -A no-such -V line not valid - ignoring/);
  const jail = join(s.potRoot, 'jails', 'b', 'm');
  assert.equal(readFileSync(join(jail, 'var', 'log', 'flavours.log'), 'utf8'), 'fbsd-update.sh b\nmatrix-synapse-nomad.sh b\n');
  assert.ok(existsSync(join(jail, 'usr', 'local', 'etc', 'fixture', 'example.yaml')), 'directory copy-in');
  const state = JSON.parse(readFileSync(join(s.potRoot, 'jails', 'b', 'conf', 'state.json'), 'utf8'));
  assert.equal(state.cmd, '/usr/local/bin/cook');
  assert.deepEqual(state.attributes, { persistent: 'NO' }, 'pot stores boolean attributes as YES/NO');

  writeFileSync(join(s.installDir, 'broken.sh'), 'exit 3\n');
  const f = pot('create', '-p', 'c', '-t', 'single', '-b', '14.3', '-f', 'broken');
  assert.equal(f.code, 1);
  assert.match(f.err, /create: flavour broken failed \(script\)/);
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
  assert.match(pot('export', '-p', 'e', '-t', '1.0.0', '-D', out).err, /has no snapshots/);
  pot('snapshot', '-p', 'e');
  assert.match(pot('export', '-p', 'e', '-t', '1.0.0', '-D', out, '-l', '10').err, /10 is an invalid compression level/);
  assert.match(pot('export', '-p', 'e', '-t', '1.0.0', '-D', join(s.dir, 'nodir')).err, /is not a directory/);

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
  assert.match(pot('export', '-p', 'e', '-t', '0.9.0', '-c', '-D', out).err, /lower than the last exported tag 1\.0\.0/);
  assert.equal(pot('export', '-p', 'e', '-t', '1.0.0', '-c', '-D', tempDir()).code, 0);
  pot('snapshot', '-p', 'e');
  assert.match(pot('export', '-p', 'e', '-t', '1.1.0', '-D', out).err, /more than 1 snapshot/);
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
  assert.match(pot('destroy', '-p', 'f').err, /f is not a pot/);
  assert.deepEqual(s.calls().filter((l) => l.startsWith('pot ')).map((l) => l.split(' ')[1]), ['create', 'snapshot', 'destroy', 'export', 'destroy', 'destroy']);
});
