import { test, after, before } from 'node:test';
import { Readable } from 'node:stream';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { skein1024Hex, skeinLine } from '../../pipeline/artifacts/skein1024.js';
import { signFile } from '../../pipeline/artifacts/signify.js';
import { verifyImage } from '../../pipeline/artifacts/verify.js';
import { digestImageFiles, digestImageStream, ImageDigest } from '../../pipeline/artifacts/image-digest.js';
import { PROJECT_ROOT, runCli } from '../helpers/cli.js';
import { startStaticServer, type StaticServer } from '../helpers/static-server.js';
import { tempDir } from '../helpers/tmp.js';

const POT = 'matrix-synapse-nomad-amd64-14_3';
const TAG = '1.2.3';
const BASE = `${POT}_${TAG}`;

const root = tempDir();
let server: StaticServer;
const keys = {
  good: { pub: join(root, 'good.pub'), sec: join(root, 'good.sec') },
  other: { pub: join(root, 'other.pub'), sec: join(root, 'other.sec') },
};

function pseudoRandom(n: number, seed: string): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, block = 0; i < n; block++) i += createHash('sha512').update(`${seed}:${block}`).digest().copy(out, i);
  return out;
}

/** A published image in `root/<name>/`: .xz, .meta (unless withoutMeta), .skein and a .sig by `key`. */
async function publish(name: string, options: { key?: 'good' | 'other'; meta?: string | null; size?: number } = {}): Promise<string> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const xz = pseudoRandom(options.size ?? 300_000, name);
  const meta = options.meta === undefined ? '-\n' : options.meta;
  writeFileSync(join(dir, `${BASE}.xz`), xz);
  if (meta !== null) writeFileSync(join(dir, `${BASE}.xz.meta`), meta);
  writeFileSync(join(dir, `${BASE}.xz.skein`), skeinLine(skein1024Hex(Buffer.concat([xz, Buffer.from(meta ?? '')]))));
  if (options.key) await signFile(keys[options.key].sec, join(dir, `${BASE}.xz.skein`));
  return dir;
}

before(async () => {
  for (const k of Object.values(keys)) {
    const r = spawnSync('signify-openbsd', ['-G', '-n', '-p', k.pub, '-s', k.sec]);
    assert.equal(r.status, 0);
  }
  server = await startStaticServer(root);
});
after(() => server.close());

const urlOf = (name: string): string => `${server.url}${name}/`;

test('a good signed image passes, checked in pot import order (skein, sig, xz, meta)', async () => {
  await publish('good', { key: 'good' });
  server.requests.length = 0;
  const r = await runCli(['verify', '--public-url', urlOf('good'), '--pot', POT, '--tag', TAG, '--public-key', keys.good.pub]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^OK .*digest matches \(300000 bytes of \.xz \+ \.meta\); signature verified/);
  assert.deepEqual(server.requests, [
    `GET /good/${BASE}.xz.skein`, `GET /good/${BASE}.xz.skein.sig`, `GET /good/${BASE}.xz`, `GET /good/${BASE}.xz.meta`,
  ]);
  const json = await runCli(['verify', '--public-url', urlOf('good').slice(0, -1), '--pot', POT, '--tag', TAG, '--public-key', keys.good.pub, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const result = JSON.parse(json.stdout);
  assert.equal(result.ok, true);
  assert.equal(result.signature, 'verified');
  assert.equal(result.xzBytes, 300000);
  assert.equal(result.expectedDigest, result.actualDigest);
  assert.equal(result.urls.xz, `${server.url}good/${BASE}.xz`);
});

test('a tampered .xz fails with a digest mismatch', async () => {
  const dir = await publish('tampered-xz', { key: 'good' });
  const xz = readFileSync(join(dir, `${BASE}.xz`));
  xz[123_456]! ^= 0x80;
  writeFileSync(join(dir, `${BASE}.xz`), xz);
  const r = await runCli(['verify', '--public-url', urlOf('tampered-xz'), '--pot', POT, '--tag', TAG, '--public-key', keys.good.pub]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^pot-image: verify failed: digest mismatch: .*tampered-xz\/.*\.xz .* hash to [0-9a-f]{16}…, but .*\.xz\.skein says [0-9a-f]{16}…\n$/);
  const json = JSON.parse((await runCli(['verify', '--public-url', urlOf('tampered-xz'), '--pot', POT, '--tag', TAG, '--json'])).stdout);
  assert.equal(json.ok, false);
  assert.equal(json.failure.step, 'digest');
  assert.equal(json.signature, 'not-checked');
});

test('a tampered .skein fails the signature with a key, and the digest without one', async () => {
  const dir = await publish('tampered-skein', { key: 'good' });
  const skeinPath = join(dir, `${BASE}.xz.skein`);
  const text = readFileSync(skeinPath, 'utf8');
  writeFileSync(skeinPath, (text[0] === '0' ? '1' : '0') + text.slice(1));
  server.requests.length = 0;
  const signed = await runCli(['verify', '--public-url', urlOf('tampered-skein'), '--pot', POT, '--tag', TAG, '--public-key', keys.good.pub]);
  assert.equal(signed.code, 1);
  assert.match(signed.stderr, /verify failed: signature .*\.xz\.skein\.sig does not match .*good\.pub/);
  assert.ok(!server.requests.some((line) => line.endsWith('.xz')), 'the image is not downloaded after a bad signature');
  const unsigned = await runCli(['verify', '--public-url', urlOf('tampered-skein'), '--pot', POT, '--tag', TAG]);
  assert.equal(unsigned.code, 1);
  assert.match(unsigned.stderr, /digest mismatch/);
});

test('a signature by another key names the key mismatch', async () => {
  await publish('other-key', { key: 'other' });
  const r = await runCli(['verify', '--public-url', urlOf('other-key'), '--pot', POT, '--tag', TAG, '--public-key', keys.good.pub]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /verify failed: signature .* was made by key [0-9a-f]{16}, but .*good\.pub is key [0-9a-f]{16}: checked against the wrong key/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('a missing .sig fails when a key is given (URL and HTTP status), and is not fetched without one', async () => {
  await publish('unsigned');
  const r = await runCli(['verify', '--public-url', urlOf('unsigned'), '--pot', POT, '--tag', TAG, '--public-key', keys.good.pub]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`verify failed: missing ${server.url.replace(/[.]/g, '\\.')}unsigned/${BASE.replace(/[.]/g, '\\.')}\\.xz\\.skein\\.sig \\(HTTP 404\\)`));
  server.requests.length = 0;
  const withoutKey = await runCli(['verify', '--public-url', urlOf('unsigned'), '--pot', POT, '--tag', TAG]);
  assert.equal(withoutKey.code, 0, withoutKey.stderr);
  assert.match(withoutKey.stdout, /signature not checked/);
  assert.ok(!server.requests.some((line) => line.endsWith('.sig')));
});

test('a missing .meta counts as empty, as pot import does', async () => {
  await publish('no-meta', { key: 'good', meta: null });
  const r = await verifyImage({ baseUrl: urlOf('no-meta'), pot: POT, tag: TAG, publicKeyFile: keys.good.pub });
  assert.equal(r.ok, true, r.failure?.message);
  assert.equal(r.metaPresent, false);
  // but a .skein computed over a .meta that is then not published fails
  const dir = await publish('meta-lost', { key: 'good' });
  rmSync(join(dir, `${BASE}.xz.meta`));
  const lost = await verifyImage({ baseUrl: urlOf('meta-lost'), pot: POT, tag: TAG, publicKeyFile: keys.good.pub });
  assert.equal(lost.ok, false);
  assert.equal(lost.failure?.step, 'digest');
  assert.match(lost.failure!.message, /empty \.meta \(none published\)/);
});

test('a missing .xz or .skein names the URL and status; a malformed .skein is named', async () => {
  const dir = await publish('no-xz');
  rmSync(join(dir, `${BASE}.xz`));
  const noXz = await verifyImage({ baseUrl: urlOf('no-xz'), pot: POT, tag: TAG });
  assert.equal(noXz.failure?.step, 'xz');
  assert.equal(noXz.failure?.status, 404);
  assert.equal(noXz.failure?.message, `missing ${server.url}no-xz/${BASE}.xz (HTTP 404)`);
  const noSkein = await verifyImage({ baseUrl: urlOf('nothing-here'), pot: POT, tag: TAG });
  assert.equal(noSkein.failure?.step, 'skein');
  assert.equal(noSkein.failure?.message, `missing ${server.url}nothing-here/${BASE}.xz.skein (HTTP 404)`);
  const upper = await publish('upper');
  const skeinPath = join(upper, `${BASE}.xz.skein`);
  writeFileSync(skeinPath, readFileSync(skeinPath, 'utf8').toUpperCase());
  const bad = await verifyImage({ baseUrl: urlOf('upper'), pot: POT, tag: TAG });
  assert.equal(bad.failure?.step, 'skein');
  assert.match(bad.failure!.message, /is not a Skein-1024 digest file/);
});

test('a local folder, a relative path and a file:// URL work as base URLs', async () => {
  const dir = await publish('local', { key: 'good' });
  for (const base of [dir, pathToFileURL(dir).toString()]) {
    const r = await verifyImage({ baseUrl: base, pot: POT, tag: TAG, publicKeyFile: keys.good.pub });
    assert.equal(r.ok, true, `${base}: ${r.failure?.message}`);
  }
  // relative to the CLI's working folder (the project root)
  const cli = await runCli(['verify', '--public-url', relative(PROJECT_ROOT, dir), '--pot', POT, '--tag', TAG, '--public-key', keys.good.pub]);
  assert.equal(cli.code, 0, cli.stderr);
  rmSync(join(dir, `${BASE}.xz.skein.sig`));
  const missing = await verifyImage({ baseUrl: dir, pot: POT, tag: TAG, publicKeyFile: keys.good.pub });
  assert.equal(missing.failure?.message, `missing ${join(dir, `${BASE}.xz.skein.sig`)} (no such file)`);
});

test('network trouble: a 503 is retried, a cut .xz download resumes with a Range request', async () => {
  await publish('flaky', { key: 'good', size: 1_000_000 });
  server.fault(`flaky/${BASE}.xz.skein`, { status: 503 });
  server.fault(`flaky/${BASE}.xz`, { cutAfterBytes: 400_000 });
  server.requests.length = 0;
  const r = await verifyImage({ baseUrl: urlOf('flaky'), pot: POT, tag: TAG, publicKeyFile: keys.good.pub, retryDelayMs: 10 });
  assert.equal(r.ok, true, r.failure?.message);
  assert.equal(r.xzBytes, 1_000_000);
  assert.equal(server.requests.filter((l) => l === `GET /flaky/${BASE}.xz.skein`).length, 2);
  assert.ok(server.requests.includes(`GET /flaky/${BASE}.xz bytes=400000-`), server.requests.join('\n'));
});

test('retries are bounded and a stalled server times out', async () => {
  await publish('down');
  server.fault(`down/${BASE}.xz`, { status: 500, times: 10 });
  server.requests.length = 0;
  const down = await verifyImage({ baseUrl: urlOf('down'), pot: POT, tag: TAG, retries: 2, retryDelayMs: 5 });
  assert.equal(down.ok, false);
  assert.equal(down.failure?.message, `cannot fetch ${server.url}down/${BASE}.xz: HTTP 500 (after 3 attempts)`);
  assert.equal(server.requests.filter((l) => l.startsWith(`GET /down/${BASE}.xz`) && !l.includes('.skein')).length, 3);
  server.fault(`down/${BASE}.xz.skein`, { hang: true, times: 2 });
  const stalled = await verifyImage({ baseUrl: urlOf('down'), pot: POT, tag: TAG, retries: 1, retryDelayMs: 5, timeoutMs: 150 });
  assert.equal(stalled.ok, false);
  assert.match(stalled.failure!.message, /cannot fetch .*\.xz\.skein: no data for 0\.15 s \(after 2 attempts\)$/);
});

test('bad arguments exit 2 with one line', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['verify', '--public-url', 'ftp://example.org/x', '--pot', POT, '--tag', TAG], /unsupported base URL 'ftp:\/\/example\.org\/x'/],
    [['verify', '--public-url', urlOf('good'), '--pot', POT], /give --public-url BASEURL, --pot NAME and --tag TAG/],
    [['verify', '--public-url', urlOf('good'), '--pot', POT, '--tag', TAG, '--public-key', join(root, 'none.pub')], /--public-key .*none\.pub: no such file/],
    [['verify', '--public-url', urlOf('good'), '--pot', POT, '--tag', TAG, '--public-key', keys.good.sec], /good\.sec is a signify secret key, not a public key/],
    [['verify', '--public-url', urlOf('good'), '--pot', POT, '--tag', TAG, '--timeout', 'soon'], /--timeout 'soon'/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test('the image digest is one pass over the .xz: tap, stream and files agree with cat F F.meta | skein', async () => {
  const dir = await publish('digest');
  const xzPath = join(dir, `${BASE}.xz`);
  const metaPath = join(dir, `${BASE}.xz.meta`);
  const expected = readFileSync(join(dir, `${BASE}.xz.skein`), 'utf8').trim();
  assert.equal(await digestImageFiles(xzPath, metaPath), expected);
  assert.equal(await digestImageStream(Readable.from([readFileSync(xzPath)]), readFileSync(metaPath)), expected);
  const tapped = new ImageDigest();
  const copy = join(dir, 'copy.xz');
  const { pipeline } = await import('node:stream/promises');
  const { createReadStream, createWriteStream } = await import('node:fs');
  await pipeline(createReadStream(xzPath), tapped.xzTap(), createWriteStream(copy));
  assert.equal(tapped.finish('-\n'), expected);
  assert.deepEqual(readFileSync(copy), readFileSync(xzPath));
  copyFileSync(xzPath, join(dir, 'lonely.xz'));
  assert.equal(await digestImageFiles(join(dir, 'lonely.xz'), join(dir, 'lonely.xz.meta')), skein1024Hex(readFileSync(xzPath)));
});

test('on a terminal, the .xz download shows a progress line with bytes, total and rate', async () => {
  await publish('progress', { size: 2_000_000 });
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('../helpers/cli.js');
  const cli = `node --import tsx ${CLI} verify --public-url ${urlOf('progress')} --pot ${POT} --tag ${TAG}`;
  // A terminal as a person has it: outside CI (CI=true makes progress plain lines, which another test checks).
  const { CI: _ci, ...env } = process.env;
  const child = spawn('script', ['-qec', cli, '/dev/null'], { cwd: PROJECT_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stdin.end();
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 128)));
  assert.equal(code, 0, output);
  assert.match(output, new RegExp(`${BASE.replace(/\./g, '\\.')}\\.xz \\[#+\\] 1\\.9 MiB / 1\\.9 MiB 100% [0-9.]+ [KMG]?i?B/s`));
  assert.match(output, /OK .*digest matches/);
});

test('an https:// base URL works (self-signed certificate trusted through NODE_EXTRA_CA_CERTS)', async () => {
  const certDir = tempDir();
  const key = join(certDir, 'key.pem');
  const cert = join(certDir, 'cert.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  assert.equal(made.status, 0, String(made.stderr));
  await publish('tls', { key: 'good' });
  const tlsServer = await startStaticServer(root, { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') });
  try {
    const args = ['verify', '--public-url', `${tlsServer.url}tls/`, '--pot', POT, '--tag', TAG, '--public-key', keys.good.pub];
    const trusted = await runCli(args, { env: { NODE_EXTRA_CA_CERTS: cert } });
    assert.equal(trusted.code, 0, trusted.stderr);
    assert.match(trusted.stdout, /^OK /);
    // without trusting the certificate the fetch fails, in one line, without retries
    const untrusted = await runCli(args);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /verify failed: cannot fetch https:\/\/127\.0\.0\.1:\d+\/tls\/.*\.xz\.skein: .*(certificate|SELF_SIGNED)/i);
    assert.equal(tlsServer.requests.filter((l) => l.endsWith('.skein')).length, 1);
  } finally {
    await tlsServer.close();
  }
});

test('a resumed download whose file changed meanwhile starts over instead of mixing versions', async () => {
  const dir = await publish('changed', { size: 600_000 });
  const xzPath = join(dir, `${BASE}.xz`);
  server.fault(`changed/${BASE}.xz`, { cutAfterBytes: 250_000 });
  // The first response carries the old Last-Modified; change the file's time before the retry.
  const { utimesSync } = await import('node:fs');
  const original = readFileSync(xzPath);
  utimesSync(xzPath, new Date(2001, 0, 1), new Date(2001, 0, 1));
  let retried = false;
  const seen: number[] = [];
  const r = await verifyImage({
    baseUrl: urlOf('changed'), pot: POT, tag: TAG, retryDelayMs: 10,
    onProgress: (received) => {
      seen.push(received);
      if (!retried && received >= 250_000) {
        retried = true;
        utimesSync(xzPath, new Date(), new Date());
      }
    },
  });
  assert.equal(r.ok, true, r.failure?.message);
  assert.equal(r.xzBytes, original.length);
  const xzRequests = server.requests.filter((l) => l.startsWith(`GET /changed/${BASE}.xz`) && !/\.(skein|meta|sig)/.test(l));
  assert.equal(xzRequests.length, 2);
  assert.match(xzRequests[1]!, /bytes=250000-/); // asked to resume...
  // ...but got the whole file (If-Range did not match), so the digest started again from byte 0
  assert.ok(seen.some((v, i) => i > 0 && v < seen[i - 1]!), 'the byte count went back to the start');
});

test('an oversized .skein is refused without reading it all, and without retrying', async () => {
  const dir = await publish('huge-skein');
  writeFileSync(join(dir, `${BASE}.xz.skein`), Buffer.alloc(200_000, 0x61));
  server.requests.length = 0;
  const r = await verifyImage({ baseUrl: urlOf('huge-skein'), pot: POT, tag: TAG, retryDelayMs: 5 });
  assert.equal(r.failure?.step, 'skein');
  assert.equal(r.failure?.message, `cannot fetch ${server.url}huge-skein/${BASE}.xz.skein: more than the 65536 bytes expected`);
  assert.equal(server.requests.length, 1);
});
