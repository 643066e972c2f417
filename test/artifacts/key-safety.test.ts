// Issue 11 rows 10 and 11: a key command never destroys a secret key, and what we
// sign, signify can verify (its 1 GiB message limit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { renameSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

test('row 10: keygen refuses two spellings of one file (exit 2) and writes nothing', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'keys'));
  symlinkSync(join(dir, 'keys'), join(dir, 'alias'));
  for (const [pub, sec] of [[`${dir}/k`, `${dir}/./k`], [`${dir}/keys/k`, `${dir}/alias/k`], [`${dir}/keys/../k2`, `${dir}//k2`]]) {
    const r = await runCli(['keygen', '--public', pub, '--secret', sec, '--no-passphrase']);
    assert.equal(r.code, 2, `${pub} ${sec}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /name the same file; give two different files/);
    assert.equal(existsSync(sec), false, `${sec} left behind`);
  }
});

test('row 10: keygen never replaces an existing key, and the secret key it made still signs', async () => {
  const dir = tempDir();
  const made = await runCli(['keygen', '--public', join(dir, 'a.pub'), '--secret', join(dir, 'a.sec'), '--no-passphrase']);
  assert.equal(made.code, 0, made.stderr);
  const secret = readFileSync(join(dir, 'a.sec'));
  // A second keygen whose public key is the existing secret key, by another spelling.
  const again = await runCli(['keygen', '--public', `${dir}/./a.sec`, '--secret', join(dir, 'b.sec'), '--no-passphrase']);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /a\.sec already exists; .*keys are never overwritten/);
  assert.deepEqual(readFileSync(join(dir, 'a.sec')), secret);
  assert.equal(existsSync(join(dir, 'b.sec')), false);
});

test('row 10: sign refuses to write FILE.sig over its own secret key', async () => {
  const dir = tempDir();
  // signify insists on .sec when it makes a key; a key file may be called anything later.
  assert.equal(spawnSync('signify-openbsd', ['-G', '-n', '-p', join(dir, 'x.pub'), '-s', join(dir, 'x.sec')]).status, 0);
  renameSync(join(dir, 'x.sec'), join(dir, 'x.sig'));
  const secret = readFileSync(join(dir, 'x.sig'));
  const r = await runCli(['sign', '--secret', join(dir, 'x.sig'), `${dir}/./x`]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /the signature .*\/\.\/x\.sig would replace the secret key .*\/x\.sig/);
  assert.deepEqual(readFileSync(join(dir, 'x.sig')), secret);
});

test('row 11: sign refuses a file over 1 GiB, as signify would (exit 2, no .sig, no 1 GiB read)', async () => {
  const dir = tempDir();
  assert.equal(spawnSync('signify-openbsd', ['-G', '-n', '-p', join(dir, 'k.pub'), '-s', join(dir, 'k.sec')]).status, 0);
  const big = join(dir, 'big.img');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, 2 ** 30 + 1); // sparse: no disk, but 1 GiB + 1 byte long
  closeSync(fd);
  const r = await runCli(['sign', '--secret', join(dir, 'k.sec'), big]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /big\.img is 1073741825 bytes, over signify's limit of 1 GiB/);
  assert.equal(existsSync(`${big}.sig`), false);
});
