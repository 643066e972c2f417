// Publishing to a real nginx WebDAV server on 127.0.0.1 (Debian's nginx-light with
// scripts/nginx-repository.conf), through the real CLI; each publish verified from nginx.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyImage } from '../../pipeline/artifacts/verify.js';
import { runCli } from '../helpers/cli.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { POT, makeImage, makeKeyPair, type KeyPair } from './fake-image.js';

const base = tempDir('pot-image-publish-nginx-');
const USER = 'publisher';
const PASSWORD = 'correct-horse-Battery-9';
const TOKEN = 'tok-3f9a1c2b7d';
const creds = { POT_IMAGE_REPO_USER: USER, POT_IMAGE_REPO_PASSWORD: PASSWORD, POT_IMAGE_REPO_TOKEN: undefined };
let key: KeyPair;
let nginx: NginxServer;
let repoUrl = '';
let repoDir = '';

function publish(from: string, tag: string, extra: string[] = [], env: Record<string, string | undefined> = creds, to = repoUrl) {
  return runCli(['publish', '--from', from, '--pot', POT, '--tag', tag, '--to', to, '--public-key', key.pub, ...extra], { env });
}

async function clientVerifies(tag: string): Promise<void> {
  const result = await verifyImage({ baseUrl: repoUrl, pot: POT, tag, publicKeyFile: key.pub });
  assert.equal(result.ok, true, result.failure?.message);
  assert.equal(result.signature, 'verified');
}

async function index(): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await fetch(`${repoUrl}index.json`);
  assert.equal(r.status, 200);
  return r.json();
}

/** Upload temporaries and lock leftovers in the repository folder (nginx's own body temp folder aside). */
function leftovers(): string[] {
  const upload = join(nginx.root, '.nginx-upload');
  const own = existsSync(repoDir) ? readdirSync(repoDir).filter((n) => n.startsWith('.')) : [];
  const bodies = existsSync(upload) ? readdirSync(upload, { recursive: true }).map(String).filter((n) => /^\d+$/.test(n.split('/').pop() ?? '')) : [];
  return [...own, ...bodies];
}

type Fault = (req: IncomingMessage, res: ServerResponse) => boolean;

/** An HTTP proxy to nginx that lets `fault` answer (or break) some requests; counts what it saw. */
async function faultyProxy(fault: Fault): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = createHttpServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (fault(req, res)) return;
    const upstream = httpRequest({ host: '127.0.0.1', port: nginx.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/images/`,
    seen,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('publish to nginx over WebDAV', () => {
  before(async () => {
    key = makeKeyPair(base);
    nginx = await startNginx({ users: { [USER]: PASSWORD }, tokens: [TOKEN] });
    repoUrl = `${nginx.url}images/`;
    repoDir = join(nginx.root, 'images');
  });
  after(async () => { await nginx?.stop(); });

  let firstDir = '';

  it('publishes with basic auth, the .skein last, writes the index, and verifies from nginx', async () => {
    firstDir = makeImage(base, '1.0.0', { key, packages: true });
    const r = await publish(firstDir, '1.0.0');
    assert.equal(r.code, 0, r.stderr);
    const order = [...r.stdout.matchAll(/^(\S+): uploaded/gm)].map((m) => m[1]!.slice(`${POT}_1.0.0`.length));
    assert.deepEqual(order, ['.xz', '.xz.meta', '.xz.skein.sig', '.packages.json', '.xz.skein']);
    assert.match(r.stdout, /verified .* digest and signature match/);
    const entry = (await index()).pots[POT].tags['1.0.0'];
    assert.equal(entry.signed, true);
    assert.equal(entry.files.packages.name, `${POT}_1.0.0.packages.json`);
    assert.equal((await fetch(`${repoUrl}index.html`)).status, 200);
    assert.deepEqual(readFileSync(join(repoDir, `${POT}_1.0.0.xz`)), readFileSync(join(firstDir, `${POT}_1.0.0.xz`)));
    assert.deepEqual(leftovers(), []);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(PASSWORD));
    await clientVerifies('1.0.0');
  });

  it('re-publishing identical files is a no-op that says so', async () => {
    const r = await publish(firstDir, '1.0.0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no-op: .*1\.0\.0 was already published/);
    assert.doesNotMatch(r.stdout, /uploaded/);
  });

  it('refuses different content under a published tag, naming the file', async () => {
    const r = await publish(makeImage(base, '1.0.0', { key }), '1.0.0');
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /refusing to publish .* 1\.0\.0: http:\/\/127\.0\.0\.1:\d+\/images\/matrix-synapse-nomad-amd64-13_0_1\.0\.0\.xz already exists with different content/);
    await clientVerifies('1.0.0');
  });

  it('refuses an older tag, read from the repository, unless --allow-older', async () => {
    assert.equal((await publish(makeImage(base, '2.0.0', { key }), '2.0.0')).code, 0);
    const older = makeImage(base, '1.5.0', { key });
    const refused = await publish(older, '1.5.0');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already has the newer 2\.0\.0; .*--allow-older/);
    assert.equal((await fetch(`${repoUrl}${POT}_1.5.0.xz`)).status, 404);
    const allowed = await publish(older, '1.5.0', ['--allow-older']);
    assert.equal(allowed.code, 0, allowed.stderr);
    await clientVerifies('1.5.0');
  });

  it('accepts a bearer token from POT_IMAGE_REPO_TOKEN (and a base URL without its trailing slash)', async () => {
    const r = await publish(makeImage(base, '2.1.0', { key }), '2.1.0', [], { POT_IMAGE_REPO_USER: undefined, POT_IMAGE_REPO_PASSWORD: undefined, POT_IMAGE_REPO_TOKEN: TOKEN }, repoUrl.replace(/\/$/, ''));
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(TOKEN));
    await clientVerifies('2.1.0');
  });

  it('refused credentials: one line naming the variables, no secret printed, nothing uploaded', async () => {
    const dir = makeImage(base, '2.2.0', { key });
    const wrong = await publish(dir, '2.2.0', [], { POT_IMAGE_REPO_USER: USER, POT_IMAGE_REPO_PASSWORD: 'wrong-Secret-77', POT_IMAGE_REPO_TOKEN: undefined });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
    assert.match(wrong.stderr, /answered 401 Unauthorized .*POT_IMAGE_REPO_USER\/POT_IMAGE_REPO_PASSWORD were refused; set POT_IMAGE_REPO_USER and POT_IMAGE_REPO_PASSWORD, or POT_IMAGE_REPO_TOKEN/);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /wrong-Secret-77/);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, new RegExp(Buffer.from(`${USER}:wrong-Secret-77`).toString('base64')));
    const badToken = await publish(dir, '2.2.0', [], { POT_IMAGE_REPO_USER: undefined, POT_IMAGE_REPO_PASSWORD: undefined, POT_IMAGE_REPO_TOKEN: 'not-the-token-55' });
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /POT_IMAGE_REPO_TOKEN were refused/);
    assert.doesNotMatch(badToken.stdout + badToken.stderr, /not-the-token-55/);
    const none = await publish(dir, '2.2.0', [], { POT_IMAGE_REPO_USER: undefined, POT_IMAGE_REPO_PASSWORD: undefined, POT_IMAGE_REPO_TOKEN: undefined });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no credentials were given; set POT_IMAGE_REPO_USER and POT_IMAGE_REPO_PASSWORD, or POT_IMAGE_REPO_TOKEN/);
    assert.equal(existsSync(join(repoDir, `${POT}_2.2.0.xz`)), false);
    assert.deepEqual(leftovers(), []);
  });

  it('a connection dropped midway through the .xz leaves no final-named file and no temporaries; publishing again completes it', async () => {
    const dir = makeImage(base, '2.3.0', { key, bytes: 512 * 1024 });
    const proxy = await faultyProxy((req) => {
      if (req.method !== 'PUT' || !/\.xz\.[0-9a-f]+\.part$/.test(req.url ?? '')) return false;
      let received = 0;
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > 100 * 1024) req.socket.destroy();
      });
      return true;
    });
    try {
      const r = await publish(dir, '2.3.0', [], creds, proxy.url);
      assert.equal(r.code, 1, r.stdout);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /cannot reach the repository at http:\/\/127\.0\.0\.1:\d+\/images\/\.matrix-synapse-nomad-amd64-13_0_2\.3\.0\.xz\.[0-9a-f]+\.part: .*\(tried 4 times\)/);
      assert.equal(proxy.seen.filter((line) => /^PUT .*\.xz\.[0-9a-f]+\.part$/.test(line)).length, 4, 'bounded retries for a dropped connection');
    } finally {
      await proxy.close();
    }
    for (const suffix of ['.xz', '.xz.meta', '.xz.skein', '.xz.skein.sig']) assert.equal(existsSync(join(repoDir, `${POT}_2.3.0${suffix}`)), false, suffix);
    assert.deepEqual(leftovers(), []);
    const again = await publish(dir, '2.3.0');
    assert.equal(again.code, 0, again.stderr);
    await clientVerifies('2.3.0');
  });

  it('a failing PUT after the .xz is in place (507, retried) leaves the tag invisible: no .skein, no temporaries; publishing again completes it', async () => {
    const dir = makeImage(base, '2.4.0', { key });
    const proxy = await faultyProxy((req, res) => {
      if (req.method !== 'PUT' || !/\.xz\.skein\.sig\.[0-9a-f]+\.part$/.test(req.url ?? '')) return false;
      req.resume();
      req.on('end', () => res.writeHead(507, { 'content-length': '0' }).end());
      return true;
    });
    try {
      const r = await publish(dir, '2.4.0', [], creds, proxy.url);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /answered 507 Insufficient Storage to PUT .*\.xz\.skein\.sig\.[0-9a-f]+\.part \(tried 4 times\)/);
      assert.equal(proxy.seen.filter((line) => /^PUT .*\.sig\.[0-9a-f]+\.part$/.test(line)).length, 4);
    } finally {
      await proxy.close();
    }
    assert.equal(existsSync(join(repoDir, `${POT}_2.4.0.xz`)), true, 'the .xz went first');
    assert.equal(existsSync(join(repoDir, `${POT}_2.4.0.xz.skein`)), false, 'no .skein: clients do not see the tag');
    assert.equal((await verifyImage({ baseUrl: repoUrl, pot: POT, tag: '2.4.0' })).ok, false);
    assert.deepEqual(leftovers(), []);
    const again = await publish(dir, '2.4.0');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /published|completed/);
    await clientVerifies('2.4.0');
  });

  it('403 Forbidden: one line naming the variables, not retried', async () => {
    const proxy = await faultyProxy((req, res) => {
      if (req.method !== 'PUT') return false;
      req.resume();
      req.on('end', () => res.writeHead(403, { 'content-length': '0' }).end());
      return true;
    });
    try {
      const r = await publish(makeImage(base, '2.5.5', { key }), '2.5.5', [], creds, proxy.url);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /answered 403 Forbidden to PUT .*POT_IMAGE_REPO_USER\/POT_IMAGE_REPO_PASSWORD were refused; set POT_IMAGE_REPO_USER and POT_IMAGE_REPO_PASSWORD, or POT_IMAGE_REPO_TOKEN/);
      assert.equal(proxy.seen.filter((line) => line.startsWith('PUT ')).length, 1);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(PASSWORD));
    } finally {
      await proxy.close();
    }
  });

  it('does not retry a 4xx answer', async () => {
    const dir = makeImage(base, '2.5.0', { key });
    const proxy = await faultyProxy((req, res) => {
      if (req.method !== 'PUT') return false;
      req.resume();
      req.on('end', () => res.writeHead(409, { 'content-length': '0' }).end());
      return true;
    });
    try {
      const r = await publish(dir, '2.5.0', [], creds, proxy.url);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /answered 409 Conflict to PUT/);
      assert.equal(proxy.seen.filter((line) => line.startsWith('PUT ')).length, 1);
    } finally {
      await proxy.close();
    }
    assert.deepEqual(leftovers(), []);
  });

  for (const [when, stall] of [
    ['mid-body', (req: IncomingMessage, stalled: () => void) => { req.once('data', () => { req.pause(); stalled(); }); }],
    ['waiting for the answer', (req: IncomingMessage, stalled: () => void) => { req.resume(); req.on('end', stalled); }],
  ] as const) {
    it(`Ctrl-C during the upload (${when}): exit 130, temporaries removed, no final-named file`, async () => {
      const dir = makeImage(base, '2.6.0', { key, bytes: 4 * 1024 * 1024 });
      let stalled: () => void = () => undefined;
      const uploading = new Promise<void>((resolve) => { stalled = resolve; });
      const proxy = await faultyProxy((req) => {
        if (req.method !== 'PUT' || !/\.xz\.[0-9a-f]+\.part$/.test(req.url ?? '')) return false;
        stall(req, stalled);
        return true;
      });
      try {
        const r = await runCli(['publish', '--from', dir, '--pot', POT, '--tag', '2.6.0', '--to', proxy.url], {
          env: creds,
          onSpawn: (child) => { void uploading.then(() => child.kill('SIGINT')); },
        });
        assert.equal(r.code, 130, r.stderr);
        assert.match(r.stderr, /interrupted; no temporary file is left/);
      } finally {
        await proxy.close();
      }
      assert.equal(existsSync(join(repoDir, `${POT}_2.6.0.xz`)), false);
      assert.deepEqual(leftovers(), []);
    });
  }

  it('three publishers at once (different tags) all end up in index.json', async () => {
    const tags = ['3.0.0', '3.0.1', '3.0.2'];
    const dirs = tags.map((t) => makeImage(base, t, { key }));
    const results = await Promise.all(tags.map((t, i) => publish(dirs[i]!, t, ['--allow-older'])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const tagsNow = Object.keys((await index()).pots[POT].tags);
    for (const t of [...tags, '1.0.0', '1.5.0', '2.0.0', '2.1.0', '2.3.0']) assert.ok(tagsNow.includes(t), `${t} lost from index.json`);
    assert.deepEqual(leftovers(), []);
    for (const t of tags) await clientVerifies(t);
  });

  it('breaks a stale index lock (MKCOL collection) left by a crashed publisher', async () => {
    const lock = join(repoDir, '.index.lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner'), 'crashed\n');
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(join(lock, 'owner'), old, old);
    const r = await publish(makeImage(base, '3.1.0', { key }), '3.1.0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /broke a stale index lock/);
    assert.equal(existsSync(lock), false);
    assert.deepEqual(leftovers(), []);
  });

  it('server unreachable: one line with the URL after bounded retries', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/images/`;
    const started = Date.now();
    const r = await publish(makeImage(base, '9.0.0', { key }), '9.0.0', [], creds, url);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, new RegExp(`cannot reach the repository at http://127\\.0\\.0\\.1:${port}/images/index\\.json: .*ECONNREFUSED.*\\(tried 4 times\\)`));
    assert.ok(Date.now() - started < 30_000);
  });
});

describe('publish to nginx over HTTPS', () => {
  it('publishes and verifies through TLS (the server certificate trusted via NODE_EXTRA_CA_CERTS)', async () => {
    const dir = tempDir('pot-image-tls-');
    const cert = join(dir, 'cert.pem');
    const certKey = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', certKey, '-out', cert], { stdio: 'ignore' });
    const tls = await startNginx({ users: { [USER]: PASSWORD }, tls: { cert, key: certKey } });
    try {
      const signing = makeKeyPair(dir);
      const image = makeImage(dir, '1.0.0', { key: signing });
      const url = `${tls.url}images/`;
      const env = { ...creds, NODE_EXTRA_CA_CERTS: cert };
      const r = await runCli(['publish', '--from', image, '--pot', POT, '--tag', '1.0.0', '--to', url, '--public-key', signing.pub], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /verified .* from https:\/\/127\.0\.0\.1:\d+\/images\/: digest and signature match/);
      assert.ok(existsSync(join(tls.root, 'images', `${POT}_1.0.0.xz.skein`)));
      // Without trusting the certificate: one line naming the URL, nothing placed.
      const untrusted = await runCli(['publish', '--from', makeImage(dir, '1.0.1', { key: signing }), '--pot', POT, '--tag', '1.0.1', '--to', url], { env: creds });
      assert.equal(untrusted.code, 1);
      assert.equal(untrusted.stderr.trim().split('\n').length, 1);
      assert.match(untrusted.stderr, /https:\/\/127\.0\.0\.1:\d+\/images\/index\.json: .*certificate/i);
    } finally {
      await tls.stop();
    }
  });
});
