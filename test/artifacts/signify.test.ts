import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bcryptPbkdf } from '../../pipeline/artifacts/bcrypt-pbkdf.js';
import { piFractionWords } from '../../pipeline/artifacts/blowfish.js';
import { verifySignatureFile } from '../../pipeline/artifacts/signify.js';
import { CLI, PROJECT_ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const SIGNIFY = 'signify-openbsd';
const PASS = 'correct horse 42';

/** Run signify; a passphrase goes to its stdin (signify reads it from stdin when stdin is not a terminal). */
function signify(args: string[], passphrase?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(SIGNIFY, args, { input: passphrase === undefined ? '' : `${passphrase}\n`, encoding: 'utf8' });
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

function message(dir: string, name = 'image.xz.skein', text = `${'ab'.repeat(128)}\n`): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

test('bcrypt_pbkdf matches the OpenBSD test vectors and Blowfish starts from the digits of pi', () => {
  const kdf = (p: string, s: string, rounds: number, n: number) =>
    Buffer.from(bcryptPbkdf(Buffer.from(p, 'latin1'), Buffer.from(s, 'latin1'), rounds, n)).toString('hex');
  assert.equal(kdf('password', 'salt', 4, 32), '5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9');
  assert.equal(kdf('password', '\0', 4, 16), 'c12b566235eee04c212598970a579a67');
  assert.equal(kdf('\0', 'salt', 4, 16), '6051be18c2f4f82cbf0efee5471b4bb9');
  assert.equal(kdf('password\0', 'salt\0', 4, 32), '7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050');
  const pi = piFractionWords(1042);
  assert.deepEqual([pi[0], pi[1], pi[17], pi[18], pi[1041]], [0x243f6a88, 0x85a308d3, 0x8979fb1b, 0xd1310ba6, 0x3ac372e6]);
});

test('our keys and signatures work with signify, both ways (no passphrase)', async () => {
  const dir = tempDir();
  const pub = join(dir, 'ours.pub');
  const sec = join(dir, 'ours.sec');
  const gen = await runCli(['keygen', '--public-key', pub, '--secret-key', sec, '--no-passphrase']);
  assert.equal(gen.code, 0, gen.stderr);
  assert.match(readFileSync(pub, 'utf8'), /^untrusted comment: signify public key\n[A-Za-z0-9+/]{56}\n$/);
  assert.match(readFileSync(sec, 'utf8'), /^untrusted comment: signify secret key\n/);
  assert.equal(statSync(sec).mode & 0o777, 0o600);

  // we sign, signify verifies
  const file = message(dir);
  const signed = await runCli(['sign', '--secret-key', sec, file]);
  assert.equal(signed.code, 0, signed.stderr);
  assert.match(readFileSync(`${file}.sig`, 'utf8'), /^untrusted comment: verify with ours\.pub\n/);
  const checked = signify(['-V', '-p', pub, '-m', file]);
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stdout, /Signature Verified/);

  // signify signs with our key, we verify
  const other = message(dir, 'other.txt', 'another message\n');
  const made = signify(['-S', '-s', sec, '-m', other]);
  assert.equal(made.code, 0, made.stderr);
  await verifySignatureFile(pub, other);
  // and a changed message fails in both
  writeFileSync(other, 'another message!\n');
  await assert.rejects(verifySignatureFile(pub, other), /does not match/);
  assert.notEqual(signify(['-V', '-p', pub, '-m', other]).code, 0);
});

test('signify-made keys sign with our code, and signify signatures verify with ours', async () => {
  const dir = tempDir();
  const pub = join(dir, 'theirs.pub');
  const sec = join(dir, 'theirs.sec');
  assert.equal(signify(['-G', '-n', '-p', pub, '-s', sec]).code, 0);
  const file = message(dir);
  const signed = await runCli(['sign', '--secret-key', sec, file]);
  assert.equal(signed.code, 0, signed.stderr);
  assert.equal(signify(['-V', '-p', pub, '-m', file]).code, 0);
  const theirSig = join(dir, 'their.sig');
  assert.equal(signify(['-S', '-s', sec, '-m', file, '-x', theirSig]).code, 0);
  await verifySignatureFile(pub, file, theirSig);
  // Ed25519 is deterministic: both signatures are the same bytes
  assert.equal(readFileSync(theirSig, 'utf8').split('\n')[1], readFileSync(`${file}.sig`, 'utf8').split('\n')[1]);
});

test('passphrase-protected keys interoperate both ways and the passphrase is never printed', async () => {
  const dir = tempDir();
  // signify makes a protected key; we sign with it
  const tPub = join(dir, 'theirs.pub');
  const tSec = join(dir, 'theirs.sec');
  assert.equal(signify(['-G', '-p', tPub, '-s', tSec], PASS).code, 0);
  const file = message(dir);
  const signed = await runCli(['sign', '--secret-key', tSec, file], { env: { POT_IMAGE_KEY_PASSPHRASE: PASS } });
  assert.equal(signed.code, 0, signed.stderr);
  assert.equal(signify(['-V', '-p', tPub, '-m', file]).code, 0);
  assert.ok(!signed.stdout.includes(PASS) && !signed.stderr.includes(PASS));

  // we make a protected key (42 rounds, as signify); signify signs with it
  const oPub = join(dir, 'ours.pub');
  const oSec = join(dir, 'ours.sec');
  const gen = await runCli(['keygen', '--public-key', oPub, '--secret-key', oSec], { env: { POT_IMAGE_KEY_PASSPHRASE: PASS } });
  assert.equal(gen.code, 0, gen.stderr);
  assert.ok(!gen.stdout.includes(PASS) && !gen.stderr.includes(PASS));
  assert.equal(Buffer.from(readFileSync(oSec, 'utf8').split('\n')[1]!, 'base64').readUInt32BE(4), 42);
  const other = message(dir, 'other.txt', 'x');
  const made = signify(['-S', '-s', oSec, '-m', other], PASS);
  assert.equal(made.code, 0, made.stderr);
  await verifySignatureFile(oPub, other);
  // signify rejects a wrong passphrase on our key too
  assert.match(signify(['-S', '-s', oSec, '-m', other, '-x', join(dir, 'x.sig')], 'wrong').stderr, /incorrect passphrase/);
});

test('wrong passphrase, missing passphrase, corrupt key, public key as secret: one line, exit 1, no .sig', async () => {
  const dir = tempDir();
  const pub = join(dir, 'k.pub');
  const sec = join(dir, 'k.sec');
  assert.equal(signify(['-G', '-p', pub, '-s', sec], PASS).code, 0);
  const plainPub = join(dir, 'plain.pub');
  const plainSec = join(dir, 'plain.sec');
  assert.equal(signify(['-G', '-n', '-p', plainPub, '-s', plainSec]).code, 0);
  const file = message(dir);

  const secText = readFileSync(plainSec, 'utf8');
  const b64 = secText.split('\n')[1]!;
  const flipped = Buffer.from(b64, 'base64');
  flipped[60] ^= 0x01; // a bit of the (unencrypted) secret key
  const corruptChecksum = join(dir, 'flipped.sec');
  writeFileSync(corruptChecksum, `untrusted comment: signify secret key\n${flipped.toString('base64')}\n`);
  const badBase64 = join(dir, 'bad64.sec');
  writeFileSync(badBase64, `untrusted comment: signify secret key\n${b64.slice(0, 40)}!!${b64.slice(42)}\n`);
  const truncated = join(dir, 'short.sec');
  writeFileSync(truncated, `untrusted comment: signify secret key\n${b64.slice(0, 100)}\n`);
  const noComment = join(dir, 'nocomment.sec');
  writeFileSync(noComment, `${b64}\n`);

  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['wrong passphrase', ['--secret-key', sec], { POT_IMAGE_KEY_PASSPHRASE: 'not it' }, /incorrect passphrase for .*k\.sec/],
    ['no passphrase without a terminal', ['--secret-key', sec], { POT_IMAGE_KEY_PASSPHRASE: '' }, /needs a passphrase: set POT_IMAGE_KEY_PASSPHRASE/],
    ['public key given as secret', ['--secret-key', pub], {}, /k\.pub is a signify public key; signing needs the secret key/],
    ['checksum mismatch', ['--secret-key', corruptChecksum], {}, /flipped\.sec is corrupt/],
    ['bad base64', ['--secret-key', badBase64], {}, /bad64\.sec is corrupt: .*base64/],
    ['truncated key', ['--secret-key', truncated], {}, /short\.sec is corrupt/],
    ['no comment line', ['--secret-key', noComment], {}, /must start with 'untrusted comment:'/],
    // A missing file is bad input (exit 2), like in every command.
    ['missing key file', ['--secret-key', join(dir, 'none.sec')], {}, /sign: --secret-key .*none\.sec: no such file/],
  ];
  for (const [name, args, env, pattern] of cases) {
    const r = await runCli(['sign', ...args, file], { env });
    assert.equal(r.code, name === 'missing key file' ? 2 : 1, `${name}: ${r.stderr}`);
    assert.match(r.stderr, pattern, name);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
    assert.ok(!existsSync(`${file}.sig`), `${name}: no .sig written`);
    assert.ok(!r.stderr.includes('not it'), `${name}: passphrase not echoed`);
  }
  const missingFile = await runCli(['sign', '--secret-key', plainSec, join(dir, 'nothing-here')]);
  assert.equal(missingFile.code, 2);
  assert.match(missingFile.stderr, /sign: .*nothing-here: no such file/);
  assert.ok(!existsSync(join(dir, 'nothing-here.sig')));
});

test('a signature checked against another key names the key-number mismatch', async () => {
  const dir = tempDir();
  const a = { pub: join(dir, 'a.pub'), sec: join(dir, 'a.sec') };
  const b = { pub: join(dir, 'b.pub'), sec: join(dir, 'b.sec') };
  for (const k of [a, b]) assert.equal(signify(['-G', '-n', '-p', k.pub, '-s', k.sec]).code, 0);
  const file = message(dir);
  assert.equal(signify(['-S', '-s', a.sec, '-m', file]).code, 0);
  await assert.rejects(verifySignatureFile(b.pub, file), /made by key [0-9a-f]{16}, but .*b\.pub is key [0-9a-f]{16}: checked against the wrong key/);
  // same key number, different key: the signature itself does not verify
  const forged = readFileSync(b.pub, 'utf8').split('\n');
  const raw = Buffer.from(forged[1]!, 'base64');
  Buffer.from(readFileSync(a.pub, 'utf8').split('\n')[1]!, 'base64').copy(raw, 2, 2, 10);
  const sameNumber = join(dir, 'same-number.pub');
  writeFileSync(sameNumber, `${forged[0]}\n${raw.toString('base64')}\n`);
  await assert.rejects(verifySignatureFile(sameNumber, file), /does not match/);
  assert.notEqual(signify(['-V', '-p', sameNumber, '-m', file]).code, 0);
});

test('keygen never overwrites, refuses to run without a passphrase source, and checks its arguments', async () => {
  const dir = tempDir();
  const pub = join(dir, 'k.pub');
  const sec = join(dir, 'k.sec');
  const noSource = await runCli(['keygen', '--public-key', pub, '--secret-key', sec], { env: { POT_IMAGE_KEY_PASSPHRASE: '' } });
  assert.equal(noSource.code, 1);
  assert.match(noSource.stderr, /needs a passphrase/);
  assert.ok(!existsSync(pub) && !existsSync(sec));
  assert.equal((await runCli(['keygen', '--public-key', pub, '--secret-key', sec, '--no-passphrase'])).code, 0);
  const before = readFileSync(sec, 'utf8');
  const again = await runCli(['keygen', '--public-key', join(dir, 'new.pub'), '--secret-key', sec, '--no-passphrase']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /k\.sec already exists/);
  assert.equal(readFileSync(sec, 'utf8'), before);
  assert.ok(!existsSync(join(dir, 'new.pub')));
  const missing = await runCli(['keygen', '--public-key', pub]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--public-key FILE and --secret-key FILE/);
  const onCommandLine = await runCli(['keygen', '--public-key', pub, '--secret-key', sec, '--passphrase', 'x']);
  assert.equal(onCommandLine.code, 2);
});

test('on a terminal, keygen asks for the passphrase twice without echoing it', async () => {
  const dir = tempDir();
  const pub = join(dir, 'tty.pub');
  const sec = join(dir, 'tty.sec');
  // `script` gives the CLI a pseudo-terminal; we type only once each prompt has appeared.
  const cli = `node --import tsx ${CLI} keygen --public-key ${pub} --secret-key ${sec}`;
  const child = spawn('script', ['-qec', cli, '/dev/null'], {
    cwd: PROJECT_ROOT, env: { ...process.env, POT_IMAGE_KEY_PASSPHRASE: '' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let answered = 0;
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    const prompts = (output.match(/passphrase: /g) ?? []).length;
    while (answered < prompts) {
      answered++;
      child.stdin.write(`${PASS}\r`);
    }
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 128)));
  assert.equal(code, 0, output);
  assert.equal(answered, 2);
  assert.match(output, /confirm passphrase: /);
  assert.ok(!output.includes(PASS), 'the passphrase is not echoed');
  const other = message(dir, 'm.txt', 'm');
  assert.equal(signify(['-S', '-s', sec, '-m', other], PASS).code, 0);
  await verifySignatureFile(pub, other);
});
