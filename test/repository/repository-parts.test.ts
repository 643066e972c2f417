// The repository's parts on their own: name checks, target parsing, the index,
// and the index lock's mutual exclusion on a folder and on nginx WebDAV.
import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError, UserError } from '../../pipeline/errors.js';
import { skein1024Hex } from '../../pipeline/artifacts/skein1024.js';
import { CHUNK_BYTES, forEachChunk } from '../../pipeline/repository/file-chunks.js';
import { FolderTarget } from '../../pipeline/repository/folder-target.js';
import { ParallelDigest } from '../../pipeline/repository/parallel-digest.js';
import { credentialsFromEnv } from '../../pipeline/repository/http-client.js';
import { emptyIndex, parseIndex, renderIndexHtml, withEntry, type TagEntry } from '../../pipeline/repository/index-file.js';
import { validatePotName, validateTag } from '../../pipeline/repository/names.js';
import { parseTarget } from '../../pipeline/repository/open-target.js';
import { publishImage, releaseFromPotName } from '../../pipeline/repository/publish.js';
import type { RepositoryTarget } from '../../pipeline/repository/target.js';
import { WebDavTarget } from '../../pipeline/repository/webdav-target.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { tempDir } from '../helpers/tmp.js';
import { POT, makeImage } from './fake-image.js';

const base = tempDir('pot-image-repository-parts-');

describe('names', () => {
  it('accepts pot names and semver tags', () => {
    validatePotName(POT);
    validatePotName('nginx-nomad-arm64-14_3');
    validateTag('0.11.0');
    validateTag('1.2.3-rc.1+build.5');
  });
  it('refuses anything that could leave the repository folder, as InputError (exit 2)', () => {
    for (const bad of ['', '..', '../x', 'a/b', 'a\\b', 'a\0b', 'a b', ' a', '.hidden', '-x', 'a..b']) {
      assert.throws(() => validatePotName(bad), (e: unknown) => e instanceof InputError && e.exitCode === 2, JSON.stringify(bad));
    }
    for (const bad of ['1.0', 'v1.0.0', '1.0.0/..', '1.0.0 ', '../1.0.0', '1.0.0\0']) {
      assert.throws(() => validateTag(bad), InputError, JSON.stringify(bad));
    }
  });
  it('reads the FreeBSD release from the pot name', () => {
    assert.equal(releaseFromPotName(POT), '13.0');
    assert.equal(releaseFromPotName('x-arm64-14_3'), '14.3');
    assert.equal(releaseFromPotName('plain'), null);
  });
});

describe('targets', () => {
  it('parses folders, file:// and http(s):// and refuses credentials in the URL', () => {
    assert.deepEqual(parseTarget('/srv/repo'), { kind: 'folder', path: '/srv/repo' });
    assert.deepEqual(parseTarget('file:///srv/repo'), { kind: 'folder', path: '/srv/repo' });
    const web = parseTarget('https://images.example.org/msn/');
    assert.equal(web.kind, 'webdav');
    assert.throws(() => parseTarget('https://user:hunter2@images.example.org/'), (e: Error) => e instanceof InputError && !e.message.includes('hunter2') && /POT_IMAGE_REPO_USER/.test(e.message));
    assert.throws(() => parseTarget('ftp://images.example.org/'), /unsupported scheme/);
  });
  it('takes basic auth or a bearer token from the environment, and needs both halves of basic auth', () => {
    assert.equal(credentialsFromEnv({ POT_IMAGE_REPO_USER: 'u', POT_IMAGE_REPO_PASSWORD: 'p' }).kind, 'basic');
    assert.equal(credentialsFromEnv({ POT_IMAGE_REPO_TOKEN: 't' }).header, 'Bearer t');
    assert.equal(credentialsFromEnv({}).kind, 'none');
    assert.throws(() => credentialsFromEnv({ POT_IMAGE_REPO_USER: 'u' }), /POT_IMAGE_REPO_PASSWORD is not/);
  });
  it('refuses a traversal attempt before any request reaches the server', async () => {
    let requests = 0;
    const server = createServer((_req, res) => { requests++; res.writeHead(500).end(); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo/`;
    try {
      for (const [pot, tag] of [['../../etc', '1.0.0'], [POT, '../1.0.0'], ['a/b', '1.0.0'], ['a b', '1.0.0'], ['a\0b', '1.0.0']]) {
        await assert.rejects(publishImage({ from: base, pot: pot!, tag: tag!, to: url }), InputError);
      }
      assert.equal(requests, 0);
    } finally {
      server.close();
    }
  });
});

function entry(tag: string, published: string): TagEntry {
  return {
    tag, published, skein: 'ab'.repeat(128), signed: false, keyFingerprint: null, freebsdRelease: '13.0', imageVersion: tag,
    files: { xz: { name: `p_${tag}.xz`, size: 1 }, meta: { name: `p_${tag}.xz.meta`, size: 2 }, skein: { name: `p_${tag}.xz.skein`, size: 257 } },
  };
}

describe('index', () => {
  it('adds entries, keeps the first publish time of a tag, and refuses a damaged index', () => {
    let index = withEntry(emptyIndex(), 'p', entry('1.0.0', '2026-01-01T00:00:00.000Z'));
    index = withEntry(index, 'p', entry('1.1.0', '2026-02-01T00:00:00.000Z'));
    index = withEntry(index, 'p', entry('1.0.0', '2026-03-01T00:00:00.000Z'));
    assert.deepEqual(Object.keys(index.pots.p!.tags).sort(), ['1.0.0', '1.1.0']);
    assert.equal(index.pots.p!.tags['1.0.0']!.published, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(parseIndex(Buffer.from(JSON.stringify(index)), 'x'), index);
    assert.throws(() => parseIndex(Buffer.from('{not json'), 'repo/index.json'), (e: Error) => e instanceof UserError && /repo\/index\.json is not valid JSON/.test(e.message));
    assert.throws(() => parseIndex(Buffer.from('{"files": []}'), 'repo/index.json'), /not a pot-image repository index/);
  });
  it('renders HTML with every tag, newest first, and escapes names', () => {
    const index = withEntry(withEntry(emptyIndex(), 'p<x>', entry('1.0.0', 't')), 'p<x>', entry('1.10.0', 't'));
    const html = renderIndexHtml(index);
    assert.match(html, /<h2>p&lt;x&gt;<\/h2>/);
    assert.doesNotMatch(html, /<x>/);
    assert.ok(html.indexOf('<td>1.10.0</td>') < html.indexOf('<td>1.0.0</td>'));
  });
  it('publish refuses to replace a damaged index.json (it would drop other entries)', async () => {
    const repo = join(base, 'damaged');
    mkdirSync(repo);
    writeFileSync(join(repo, 'index.json'), '{"half": ');
    await assert.rejects(publishImage({ from: makeImage(base, '1.0.0'), pot: POT, tag: '1.0.0', to: repo }), /index\.json is not valid JSON/);
    assert.equal(readFileSync(join(repo, 'index.json'), 'utf8'), '{"half": ');
  });
});

/** Many read-modify-write cycles of a counter at once: with a working lock none is lost. */
async function raceCounter(target: RepositoryTarget, workers: number): Promise<number> {
  await target.uploadBytes('.counter.tmp', Buffer.from('0'));
  await target.replace('.counter.tmp', 'counter');
  await Promise.all(Array.from({ length: workers }, async (_, i) => {
    const unlock = await target.lock(`worker ${i}`, { staleMs: 60_000, waitMs: 60_000 });
    try {
      const value = Number((await target.read('counter'))!.toString());
      await new Promise((resolve) => setImmediate(resolve));
      await target.uploadBytes(`.counter.${i}`, Buffer.from(String(value + 1)));
      await target.replace(`.counter.${i}`, 'counter');
    } finally {
      await unlock();
    }
  }));
  return Number((await target.read('counter'))!.toString());
}

describe('index lock', () => {
  let nginx: NginxServer;
  before(async () => { nginx = await startNginx({ users: { u: 'p' } }); });
  after(async () => { await nginx?.stop(); });

  it('folder: concurrent holders never overlap', async () => {
    const target = new FolderTarget(join(base, 'lock-folder'));
    assert.equal(await raceCounter(target, 12), 12);
  });

  it('nginx WebDAV (MKCOL): concurrent holders never overlap', async () => {
    const target = new WebDavTarget(new URL(`${nginx.url}lock/`), credentialsFromEnv({ POT_IMAGE_REPO_USER: 'u', POT_IMAGE_REPO_PASSWORD: 'p' }));
    await target.uploadBytes('.probe', Buffer.alloc(0)); // creates the folder
    try {
      assert.equal(await raceCounter(target, 12), 12);
    } finally {
      await target.close();
    }
  });

  it('a live lock is waited for, then given up with a message naming it', async () => {
    const target = new FolderTarget(join(base, 'lock-busy'));
    const unlock = await target.lock('holder', { staleMs: 60_000, waitMs: 1000 });
    try {
      await assert.rejects(target.lock('waiter', { staleMs: 60_000, waitMs: 100 }), /stayed locked .* delete .*\.index\.lock and publish again/);
    } finally {
      await unlock();
    }
  });
});

describe('upload plumbing', () => {
  it('forEachChunk reads every byte in order through its ring of buffers', async () => {
    for (const size of [0, 1, CHUNK_BYTES, 3 * CHUNK_BYTES + 17]) {
      const path = join(base, `chunks-${size}`);
      const data = randomBytes(size);
      writeFileSync(path, data);
      const seen: Buffer[] = [];
      const total = await forEachChunk(path, async (chunk) => { seen.push(Buffer.from(chunk)); });
      assert.equal(total, size);
      assert.deepEqual(Buffer.concat(seen), data);
    }
  });

  it('the worker digest equals Skein-1024 of the bytes fed (after a reset, only the bytes since)', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 333);
    const meta = Buffer.from('-\n');
    const digest = new ParallelDigest();
    try {
      digest.reset();
      await digest.add(randomBytes(5000)); // an attempt that failed midway
      digest.reset();
      for (let i = 0; i < data.length; i += 700_000) await digest.add(data.subarray(i, i + 700_000));
      const result = await digest.finish(meta);
      assert.equal(result.bytes, data.length);
      assert.equal(result.hex, skein1024Hex(Buffer.concat([data, meta])));
    } finally {
      await digest.close();
    }
  });
});
