// `pot-image serve`: a read-only HTTP server for a folder repository.
import { strict as assert } from 'node:assert';
import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyImage } from '../../pipeline/artifacts/verify.js';
import { parseRange, safeSegments } from '../../pipeline/repository/serve.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { POT, makeImage, makeKeyPair } from './fake-image.js';
import type { ChildProcess } from 'node:child_process';

const base = tempDir('pot-image-serve-');
const repo = join(base, 'repo');
const secretOutside = join(base, 'secret.txt');

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** Raw requests: fetch() would normalise `..` out of the path before sending it. */
function get(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('pot-image serve', () => {
  let child: ChildProcess | undefined;
  let url = '';
  let running: Promise<unknown> | undefined;
  const key = makeKeyPair(base);
  const image = makeImage(base, '1.0.0', { key, bytes: 10_000 });

  before(async () => {
    mkdirSync(repo);
    for (const suffix of ['.xz', '.xz.meta', '.xz.skein', '.xz.skein.sig']) {
      const { copyFileSync } = await import('node:fs');
      copyFileSync(join(image, `${POT}_1.0.0${suffix}`), join(repo, `${POT}_1.0.0${suffix}`));
    }
    writeFileSync(join(repo, `.${POT}_1.1.0.xz.abc123.part`), 'half an upload');
    mkdirSync(join(repo, '.index.lock'));
    writeFileSync(secretOutside, 'outside the repository');
    symlinkSync(secretOutside, join(repo, 'escape.txt'));
    // Links inside the folder to what is hidden: the lock, an upload temporary, a hidden folder.
    writeFileSync(join(repo, '.index.lock', 'owner'), 'lock owner token');
    symlinkSync('.index.lock/owner', join(repo, 'owner.txt'));
    symlinkSync(`.${POT}_1.1.0.xz.abc123.part`, join(repo, `${POT}_1.1.0.xz`));
    symlinkSync('.index.lock', join(repo, 'lockdir'));
    utimesSync(join(repo, `${POT}_1.0.0.xz`), new Date('2026-01-02T03:04:05Z'), new Date('2026-01-02T03:04:05Z'));
    running = runCli(['serve', '--dir', repo, '--port', '0'], {
      onSpawn: (c) => {
        child = c;
      },
    });
    url = await new Promise<string>((resolve, reject) => {
      let seen = '';
      child!.stdout!.on('data', (d) => {
        seen += d;
        const m = /read-only at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(seen);
        if (m) resolve(m[1]!);
      });
      child!.once('exit', () => reject(new Error(`serve exited: ${seen}`)));
    });
  });
  after(async () => {
    child?.kill('SIGTERM');
    const r = (await running) as { code: number };
    assert.equal(r.code, 0, 'serve stops cleanly on SIGTERM');
  });

  it('serves a file with Content-Length, Last-Modified and Accept-Ranges', async () => {
    const r = await get(url, `/${POT}_1.0.0.xz`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '10000');
    assert.equal(r.body.length, 10_000);
    assert.equal(r.headers['last-modified'], 'Fri, 02 Jan 2026 03:04:05 GMT');
    assert.equal(r.headers['accept-ranges'], 'bytes');
    const head = await get(url, `/${POT}_1.0.0.xz`, {}, 'HEAD');
    assert.equal(head.headers['content-length'], '10000');
    assert.equal(head.body.length, 0);
  });

  it('answers Range requests with 206 and Content-Range, and 416 past the end', async () => {
    const whole = (await get(url, `/${POT}_1.0.0.xz`)).body;
    const part = await get(url, `/${POT}_1.0.0.xz`, { range: 'bytes=100-199' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], 'bytes 100-199/10000');
    assert.equal(part.headers['content-length'], '100');
    assert.deepEqual(part.body, whole.subarray(100, 200));
    const tail = await get(url, `/${POT}_1.0.0.xz`, { range: 'bytes=-10' });
    assert.deepEqual(tail.body, whole.subarray(9990));
    const open = await get(url, `/${POT}_1.0.0.xz`, { range: 'bytes=9000-' });
    assert.equal(open.headers['content-range'], 'bytes 9000-9999/10000');
    const past = await get(url, `/${POT}_1.0.0.xz`, { range: 'bytes=20000-' });
    assert.equal(past.status, 416);
    assert.equal(past.headers['content-range'], 'bytes */10000');
  });

  it('answers If-Modified-Since with 304', async () => {
    const r = await get(url, `/${POT}_1.0.0.xz`, { 'if-modified-since': 'Fri, 02 Jan 2026 03:04:05 GMT' });
    assert.equal(r.status, 304);
  });

  it('is read-only', async () => {
    for (const method of ['PUT', 'DELETE', 'MOVE', 'POST']) {
      const r = await get(url, `/${POT}_1.0.0.xz`, {}, method);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
  });

  it('refuses traversal and symbolic links out of the folder', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/a/../../secret.txt', '/%00', '/escape.txt', '/..\\secret.txt']) {
      const r = await get(url, path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body.toString(), /outside the repository/, path);
    }
  });

  it('judges the resolved target: links to the lock or a temporary are not served (row 9)', async () => {
    for (const path of ['/owner.txt', `/${POT}_1.1.0.xz`, '/lockdir/owner', '/lockdir/']) {
      const r = await get(url, path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body.toString(), /lock owner token|half an upload/, path);
    }
  });

  it('a Range with an If-Range that no longer matches gets the whole file, 200 (RFC 9110; row 9)', async () => {
    const whole = await get(url, `/${POT}_1.0.0.xz`);
    const etag = String(whole.headers.etag);
    const lastModified = String(whole.headers['last-modified']);
    for (const stale of ['"0-0"', `W/${etag}`, 'Thu, 01 Jan 2026 00:00:00 GMT', 'not a date']) {
      const r = await get(url, `/${POT}_1.0.0.xz`, { range: 'bytes=100-199', 'if-range': stale });
      assert.equal(r.status, 200, stale);
      assert.equal(r.headers['content-range'], undefined, stale);
      assert.deepEqual(r.body, whole.body, stale);
    }
    for (const current of [etag, lastModified]) {
      const r = await get(url, `/${POT}_1.0.0.xz`, { range: 'bytes=100-199', 'if-range': current });
      assert.equal(r.status, 206, current);
      assert.deepEqual(r.body, whole.body.subarray(100, 200), current);
    }
  });

  it('never serves or lists temporary files and the lock', async () => {
    assert.equal((await get(url, `/.${POT}_1.1.0.xz.abc123.part`)).status, 404);
    assert.equal((await get(url, '/.index.lock/')).status, 404);
    const listing = await get(url, '/');
    assert.equal(listing.status, 200);
    const text = listing.body.toString();
    assert.match(text, new RegExp(`${POT}_1\\.0\\.0\\.xz\\.skein`));
    assert.doesNotMatch(text, /\.part|index\.lock/);
  });

  it('is what pot import needs: the consumer check passes through it', async () => {
    const result = await verifyImage({ baseUrl: url, pot: POT, tag: '1.0.0', publicKeyFile: key.pub });
    assert.equal(result.ok, true, result.failure?.message);
    assert.equal(result.signature, 'verified');
  });

  it('bad input: a missing folder or a bad port is one line, exit 2', async () => {
    const missing = await runCli(['serve', '--dir', join(base, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /serve: .*nope is not a folder/);
    const port = await runCli(['serve', '--dir', repo, '--port', '70000']);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port '70000' is not a TCP port/);
  });
});

describe('serve helpers', () => {
  it('safeSegments refuses dot segments, separators and NUL, and hidden names', () => {
    assert.deepEqual(safeSegments('/a/b.xz'), ['a', 'b.xz']);
    for (const bad of ['/..', '/a/%2e%2e', '/a%2fb', '/a%5cb', '/a%00', '/.hidden', '/%']) assert.equal(safeSegments(bad), null, bad);
  });
  it('parseRange handles the single-range forms', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-200', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-5', 100), { start: 95, end: 99 });
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,5-6', 100), null);
    assert.equal(parseRange('bytes=9-3', 100), null);
  });
});
