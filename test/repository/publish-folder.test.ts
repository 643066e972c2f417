// Publishing to a folder repository, through the real CLI, and verifying each
// publish from the folder as `pot-image serve` serves it.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyImage } from '../../pipeline/artifacts/verify.js';
import { serveRepository, type RepositoryServer } from '../../pipeline/repository/serve.js';
import { CLI, PROJECT_ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { POT, makeImage, makeKeyPair, readJson, type KeyPair } from './fake-image.js';

const base = tempDir('pot-image-publish-folder-');
let key: KeyPair;
let served: RepositoryServer;
let repoUrl = '';
const repo = join(base, 'repo');

function publish(from: string, tag: string, extra: string[] = []) {
  return runCli(['publish', '--from', from, '--pot', POT, '--tag', tag, '--to', repo, '--public-key', key.pub, ...extra]);
}

/** What a client sees: the consumer's check over HTTP from the served folder. */
async function clientVerifies(tag: string): Promise<void> {
  const result = await verifyImage({ baseUrl: repoUrl, pot: POT, tag, publicKeyFile: key.pub });
  assert.equal(result.ok, true, result.failure?.message);
  assert.equal(result.signature, 'verified');
}

function hiddenLeftovers(): string[] {
  return existsSync(repo) ? readdirSync(repo).filter((n) => n.startsWith('.')) : [];
}

describe('publish to a folder', () => {
  before(async () => {
    key = makeKeyPair(base);
    served = await serveRepository(base, '127.0.0.1', 0);
    repoUrl = `${served.url}repo/`;
  });
  after(async () => { await served.close(); });

  const first = () => makeImage(base, '1.0.0', { key, packages: true });
  let firstDir = '';

  it('publishes the four files and the package manifest, writes the index, and verifies', async () => {
    firstDir = first();
    const r = await publish(firstDir, '1.0.0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /published matrix-synapse-nomad-amd64-13_0 1\.0\.0/);
    assert.match(r.stdout, /verified .* digest and signature match/);
    for (const suffix of ['.xz', '.xz.meta', '.xz.skein', '.xz.skein.sig', '.packages.json']) {
      assert.deepEqual(readFileSync(join(repo, `${POT}_1.0.0${suffix}`)), readFileSync(join(firstDir, `${POT}_1.0.0${suffix}`)), suffix);
    }
    const index = readJson(join(repo, 'index.json'));
    const entry = index.pots[POT].tags['1.0.0'];
    assert.equal(entry.skein, readFileSync(join(firstDir, `${POT}_1.0.0.xz.skein`), 'utf8').trim());
    assert.equal(entry.signed, true);
    assert.match(entry.keyFingerprint, /^[0-9a-f]{16}$/);
    assert.equal(entry.freebsdRelease, '13.0');
    assert.equal(entry.imageVersion, '1.0.0');
    assert.equal(entry.files.xz.size, 48 * 1024);
    assert.equal(entry.files.packages.name, `${POT}_1.0.0.packages.json`);
    assert.equal(entry.inputsFingerprint, 'fp-1.0.0');
    const { readLastPublished } = await import('../../pipeline/acceptance/input-fingerprint.js');
    const last = await readLastPublished(repo, POT);
    assert.equal(last?.tag, '1.0.0');
    assert.equal(last?.fingerprint, 'fp-1.0.0');
    const html = readFileSync(join(repo, 'index.html'), 'utf8');
    assert.match(html, /matrix-synapse-nomad-amd64-13_0_1\.0\.0\.packages\.json/);
    assert.deepEqual(hiddenLeftovers(), []);
    await clientVerifies('1.0.0');
  });

  it('the key fingerprint in the index is the public key\'s key number', () => {
    const pubRaw = Buffer.from(readFileSync(key.pub, 'utf8').split('\n')[1]!, 'base64');
    const index = readJson(join(repo, 'index.json'));
    assert.equal(index.pots[POT].tags['1.0.0'].keyFingerprint, pubRaw.subarray(2, 10).toString('hex'));
  });

  it('re-publishing identical files is a no-op that says so and leaves the index alone', async () => {
    const before = readFileSync(join(repo, 'index.json'), 'utf8');
    const r = await publish(firstDir, '1.0.0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no-op: .*1\.0\.0 was already published .* identical files/);
    assert.doesNotMatch(r.stdout, /uploaded/);
    assert.equal(readFileSync(join(repo, 'index.json'), 'utf8'), before);
  });

  it('refuses different content under a published tag, naming the file (exit 1), changing nothing', async () => {
    const other = makeImage(base, '1.0.0', { key });
    const xzBefore = readFileSync(join(repo, `${POT}_1.0.0.xz`));
    const r = await publish(other, '1.0.0');
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /refusing to publish .* 1\.0\.0: .*matrix-synapse-nomad-amd64-13_0_1\.0\.0\.xz already exists with different content/);
    assert.deepEqual(readFileSync(join(repo, `${POT}_1.0.0.xz`)), xzBefore);
    assert.deepEqual(hiddenLeftovers(), []);
    await clientVerifies('1.0.0');
  });

  it('refuses a tag older than the newest in the repository unless --allow-older', async () => {
    const newer = makeImage(base, '1.2.0', { key });
    assert.equal((await publish(newer, '1.2.0')).code, 0);
    const older = makeImage(base, '1.1.5', { key });
    const refused = await publish(older, '1.1.5');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already has the newer 1\.2\.0; .*--allow-older/);
    assert.equal(existsSync(join(repo, `${POT}_1.1.5.xz`)), false);
    const allowed = await publish(older, '1.1.5', ['--allow-older']);
    assert.equal(allowed.code, 0, allowed.stderr);
    await clientVerifies('1.1.5');
    assert.deepEqual(Object.keys(readJson(join(repo, 'index.json')).pots[POT].tags).sort(), ['1.0.0', '1.1.5', '1.2.0']);
  });

  it('reads the order from the repository files too, not only from its index', async () => {
    // A tag whose files are in place but which never reached the index (interrupted before it).
    const stray = makeImage(base, '1.3.0', { key });
    for (const suffix of ['.xz', '.xz.meta', '.xz.skein']) writeFileSync(join(repo, `${POT}_1.3.0${suffix}`), readFileSync(join(stray, `${POT}_1.3.0${suffix}`)));
    const r = await publish(makeImage(base, '1.2.5', { key }), '1.2.5');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already has the newer 1\.3\.0/);
    // Publishing 1.3.0 itself completes it (its missing signature, then the index).
    const done = await publish(stray, '1.3.0');
    assert.equal(done.code, 0, done.stderr);
    assert.ok(readJson(join(repo, 'index.json')).pots[POT].tags['1.3.0']);
    await clientVerifies('1.3.0');
  });

  it('refuses names that would escape the repository before any I/O (exit 2)', async () => {
    const nowhere = join(base, 'never-created');
    const cases: [string, string, RegExp][] = [
      ['../evil', '2.0.0', /--pot: .*path separator/],
      ['a/b', '2.0.0', /--pot: .*path separator/],
      ['..', '2.0.0', /--pot: .*'\.\.'/],
      ['pot name', '2.0.0', /--pot: .*white space/],
      [POT, '../2.0.0', /--tag: .*path separator/],
      [POT, '2.0.0 ', /--tag: .*white space/],
      [POT, 'v2.0.0', /--tag: .*not a semantic version/],
    ];
    for (const [pot, tag, message] of cases) {
      const r = await runCli(['publish', '--from', join(base, 'nope'), '--pot', pot, '--tag', tag, '--to', nowhere]);
      assert.equal(r.code, 2, `${pot} ${tag}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
    // NUL cannot travel through argv; the library refuses it the same way.
    const { publishImage } = await import('../../pipeline/repository/publish.js');
    await assert.rejects(publishImage({ from: base, pot: `a\0b`, tag: '1.0.0', to: nowhere }), /NUL byte/);
    assert.equal(existsSync(nowhere), false);
  });

  it('a failing write midway (file size limit, like a full disk) leaves no final-named file and no temporaries; publishing again completes it', async () => {
    const big = makeImage(base, '1.4.0', { key, bytes: 256 * 1024 });
    // ulimit -f is in 1 KiB blocks; SIGXFSZ ignored so the write fails with EFBIG instead of killing node.
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', 'trap "" XFSZ; ulimit -f 64; exec "$@"', 'bash', process.execPath, '--import', 'tsx', CLI,
        'publish', '--from', big, '--pot', POT, '--tag', '1.4.0', '--to', repo], { cwd: PROJECT_ROOT, env: { ...process.env, CI: 'true' } });
      let stderr = '';
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('close', (code) => resolve({ code: code ?? 128, stderr }));
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cannot write .*1\.4\.0\.xz.*(too large|EFBIG)/i);
    for (const suffix of ['.xz', '.xz.meta', '.xz.skein', '.xz.skein.sig']) assert.equal(existsSync(join(repo, `${POT}_1.4.0${suffix}`)), false, suffix);
    assert.deepEqual(hiddenLeftovers(), []);
    const again = await publish(big, '1.4.0');
    assert.equal(again.code, 0, again.stderr);
    await clientVerifies('1.4.0');
  });

  it('two publishers at once (different tags) both end up in the index', async () => {
    const tags = ['1.5.0', '1.5.1', '1.5.2'];
    const dirs = tags.map((t) => makeImage(base, t, { key }));
    const results = await Promise.all(tags.map((t, i) => publish(dirs[i]!, t, ['--allow-older'])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const index = readJson(join(repo, 'index.json'));
    for (const t of tags) assert.ok(index.pots[POT].tags[t], `${t} lost from index.json`);
    for (const t of ['1.0.0', '1.1.5', '1.2.0', '1.3.0', '1.4.0']) assert.ok(index.pots[POT].tags[t], `earlier ${t} lost`);
    assert.deepEqual(hiddenLeftovers(), []);
    for (const t of tags) await clientVerifies(t);
  });

  it('two publishers of the same image at once: both succeed, the files are placed once', async () => {
    const same = makeImage(base, '1.5.5', { key });
    const results = await Promise.all([publish(same, '1.5.5', ['--allow-older']), publish(same, '1.5.5', ['--allow-older'])]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(join(repo, `${POT}_1.5.5.xz`)), readFileSync(join(same, `${POT}_1.5.5.xz`)));
    assert.ok(readJson(join(repo, 'index.json')).pots[POT].tags['1.5.5']);
    assert.deepEqual(hiddenLeftovers(), []);
  });

  it('fails (exit 1) when the consumer check from the public URL fails', async () => {
    const elsewhere = tempDir('pot-image-elsewhere-');
    const other = await serveRepository(elsewhere, '127.0.0.1', 0);
    try {
      const r = await publish(makeImage(base, '1.5.6', { key }), '1.5.6', ['--allow-older', '--public-url', other.url]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /published .* 1\.5\.6, but the consumer's check from http:\/\/127\.0\.0\.1:\d+\/ failed: .*1\.5\.6\.xz\.skein/);
    } finally {
      await other.close();
    }
  });

  it('refuses to publish unsigned files over a tag published with a signature', async () => {
    const unsigned = join(base, 'unsigned-1.0.0');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(unsigned);
    for (const suffix of ['.xz', '.xz.meta', '.xz.skein']) copyFileSync(join(firstDir, `${POT}_1.0.0${suffix}`), join(unsigned, `${POT}_1.0.0${suffix}`));
    const r = await runCli(['publish', '--from', unsigned, '--pot', POT, '--tag', '1.0.0', '--to', repo]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has .*1\.0\.0\.xz\.skein\.sig but .* has no signature/);
  });

  it('breaks an index lock left by a crashed publisher once it is stale', async () => {
    const lock = join(repo, '.index.lock');
    writeFileSync(lock, 'crashed publisher\n');
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(lock, old, old);
    const r = await publish(makeImage(base, '1.6.0', { key }), '1.6.0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /broke a stale index lock/);
    assert.equal(existsSync(lock), false);
    assert.ok(readJson(join(repo, 'index.json')).pots[POT].tags['1.6.0']);
  });

  it('refuses an unsigned image when a public key is given, and a tampered .xz before it gets its final name', async () => {
    const unsigned = makeImage(base, '1.7.0');
    const r = await publish(unsigned, '1.7.0');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has no .*1\.7\.0\.xz\.skein\.sig but a public key was given/);
    const tampered = makeImage(base, '1.7.0', { key });
    const xz = join(tampered, `${POT}_1.7.0.xz`);
    const bytes = readFileSync(xz);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(xz, bytes);
    const bad = await publish(tampered, '1.7.0');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /does not match .*Skein-1024 digest differs/);
    assert.equal(existsSync(join(repo, `${POT}_1.7.0.xz`)), false);
    assert.deepEqual(hiddenLeftovers(), []);
  });
});
