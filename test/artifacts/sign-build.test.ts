// The build's sign step against the pot stand-in: four files that pass verify,
// the loud unsigned warning, --require-signature, passphrase keys, dry-run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { POT_NAME, TAG, artifactNames, sandbox } from '../pipeline/builder-sandbox.js';

const PASS = 'build key passphrase';

function keyPair(dir: string, name: string, passphrase?: string): { pub: string; sec: string } {
  const pub = join(dir, `${name}.pub`);
  const sec = join(dir, `${name}.sec`);
  const args = passphrase ? ['-G', '-p', pub, '-s', sec] : ['-G', '-n', '-p', pub, '-s', sec];
  const r = spawnSync('signify-openbsd', args, { input: passphrase ? `${passphrase}\n` : '' });
  assert.equal(r.status, 0, String(r.stderr));
  return { pub, sec };
}

test('a signed build leaves four files that pass pot-image verify and signify with the public key', async () => {
  const s = sandbox();
  const key = keyPair(s.dir, 'image');
  const r = await s.build(['--secret-key', key.sec, '--require-signature']);
  assert.equal(r.code, 0, r.stderr);
  const files = [...artifactNames(), `${POT_NAME}_${TAG}.xz.skein.sig`];
  for (const f of files) assert.ok(existsSync(join(s.output, f)), f);
  assert.match(readFileSync(join(s.output, `${POT_NAME}_${TAG}.xz.skein.sig`), 'utf8'), /^untrusted comment: verify with image\.pub\n/);
  const v = await runCli(['verify', '--public-url', s.output, '--pot', POT_NAME, '--tag', TAG, '--public-key', key.pub]);
  assert.equal(v.code, 0, v.stderr);
  const skein = join(s.output, `${POT_NAME}_${TAG}.xz.skein`);
  assert.equal(spawnSync('signify-openbsd', ['-V', '-p', key.pub, '-m', skein]).status, 0);
  assert.doesNotMatch(r.stderr, /UNSIGNED/);
  // the build log names the in-process steps as their shell equivalents
  const log = readFileSync(join(s.output, `${POT_NAME}_${TAG}.build.log`), 'utf8');
  assert.match(log, /pot-image sign --secret-key \S*image\.sec \S*\.xz\.skein/);
  assert.match(log, /pot-image verify --public-url /);
});

test('no key: the build warns loudly that the image is unsigned; --require-signature fails it', async () => {
  const s = sandbox();
  const r = await s.build();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: the image is UNSIGNED .*POT_DEFAULT_SIGNATURE_PUBKEY set will refuse/);
  assert.ok(!existsSync(join(s.output, `${POT_NAME}_${TAG}.xz.skein.sig`)));
  const strict = sandbox();
  const failed = await strict.build(['--require-signature']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /preflight failed: 1 problem on this builder: \(1\) no signing key and --require-signature was given: set sign\.key .* or pass --secret-key/);
  assert.ok(!existsSync(join(strict.output, `${POT_NAME}_${TAG}.xz.skein.sig`)));
});

test('a passphrase-protected key signs with POT_IMAGE_KEY_PASSPHRASE, fails clearly without it or with a wrong one', async () => {
  const dir = tempDir();
  const key = keyPair(dir, 'protected', PASS);
  const noPass = sandbox();
  const missing = await noPass.build(['--secret-key', key.sec], { POT_IMAGE_KEY_PASSPHRASE: '' });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /preflight failed: .*the signing key .*protected\.sec is passphrase-protected: set POT_IMAGE_KEY_PASSPHRASE/);
  assert.ok(!existsSync(join(noPass.output, `${POT_NAME}_${TAG}.xz.skein.sig`)));
  const wrong = sandbox();
  const bad = await wrong.build(['--secret-key', key.sec], { POT_IMAGE_KEY_PASSPHRASE: 'not the passphrase' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /preflight failed: .*incorrect passphrase for .*protected\.sec/);
  assert.ok(!bad.stderr.includes('not the passphrase'));
  const good = sandbox();
  const ok = await good.build(['--secret-key', key.sec, '--public-key', key.pub], { POT_IMAGE_KEY_PASSPHRASE: PASS });
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(!ok.stdout.includes(PASS) && !ok.stderr.includes(PASS));
  const log = readFileSync(join(good.output, `${POT_NAME}_${TAG}.build.log`), 'utf8');
  assert.ok(!log.includes(PASS), 'the passphrase is not in the build log');
  const v = await runCli(['verify', '--public-url', good.output, '--pot', POT_NAME, '--tag', TAG, '--public-key', key.pub]);
  assert.equal(v.code, 0, v.stderr);
});

test('a public key that is not the signing key\'s pair fails the build before anything is signed', async () => {
  const dir = tempDir();
  const key = keyPair(dir, 'a');
  const other = keyPair(dir, 'b');
  const s = sandbox();
  const r = await s.build(['--secret-key', key.sec, '--public-key', other.pub]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /preflight failed: .*the public key .*b\.pub \(key [0-9a-f]{16}\) does not belong to the signing key .*a\.sec/);
  assert.ok(!existsSync(join(s.output, `${POT_NAME}_${TAG}.xz.skein.sig`)));
});

test('--dry-run prints the sign and verify commands instead of running them', async () => {
  const dir = tempDir();
  const key = keyPair(dir, 'plan');
  const s = sandbox();
  const r = await s.build(['--dry-run', '--secret-key', key.sec]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pot-image sign --secret-key \S*plan\.sec \S*\.xz\.skein/);
  assert.match(r.stdout, /pot-image verify --public-url \S+ --pot matrix-synapse-nomad-amd64-14_5 --tag 1\.2\.3 .*public half of/);
  assert.ok(!existsSync(join(s.output, `${POT_NAME}_${TAG}.xz.skein.sig`)));
});

test('checkSigningSetup (for preflight) catches a bad signing setup before the build', async () => {
  const { checkSigningSetup } = await import('../../pipeline/steps/sign-tasks.js');
  const dir = tempDir();
  const key = keyPair(dir, 'pre', PASS);
  const other = keyPair(dir, 'pre-other');
  const ctxFor = (sign: { key?: string; publicKey?: string }, requireSignature = false) =>
    ({ definition: { sign }, options: { requireSignature, dryRun: false } }) as unknown as Parameters<typeof checkSigningSetup>[0];
  const saved = process.env.POT_IMAGE_KEY_PASSPHRASE;
  try {
    delete process.env.POT_IMAGE_KEY_PASSPHRASE;
    await checkSigningSetup(ctxFor({}));
    await assert.rejects(checkSigningSetup(ctxFor({}, true)), /--require-signature/);
    await assert.rejects(checkSigningSetup(ctxFor({ key: key.sec })), /passphrase-protected: set POT_IMAGE_KEY_PASSPHRASE/);
    process.env.POT_IMAGE_KEY_PASSPHRASE = 'wrong';
    await assert.rejects(checkSigningSetup(ctxFor({ key: key.sec })), /incorrect passphrase/);
    process.env.POT_IMAGE_KEY_PASSPHRASE = PASS;
    await checkSigningSetup(ctxFor({ key: key.sec, publicKey: key.pub }));
    await assert.rejects(checkSigningSetup(ctxFor({ key: key.sec, publicKey: other.pub })), /does not belong to the signing key/);
    await assert.rejects(checkSigningSetup(ctxFor({ key: key.pub })), /is a signify public key/);
  } finally {
    if (saved === undefined) delete process.env.POT_IMAGE_KEY_PASSPHRASE; else process.env.POT_IMAGE_KEY_PASSPHRASE = saved;
  }
});
