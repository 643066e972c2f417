// Issue 11 rows 3 and 5: a damaged index entry is found before anything is uploaded, and
// a publish killed with SIGKILL costs a re-run, not disk space (folder and nginx WebDAV).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyImage } from '../../pipeline/artifacts/verify.js';
import { CLI, PROJECT_ROOT, runCli } from '../helpers/cli.js';
import { startNginx, type NginxServer } from '../helpers/nginx.js';
import { tempDir } from '../helpers/tmp.js';
import { POT, makeImage } from './fake-image.js';

const base = tempDir('pot-image-crashes-');
const creds = { POT_IMAGE_REPO_USER: 'ci', POT_IMAGE_REPO_PASSWORD: 'crash-password-5' };

function publishArgs(from: string, tag: string, to: string): string[] {
  return ['publish', '--from', from, '--pot', POT, '--tag', tag, '--to', to];
}

/** The publisher as a child process (so the test can SIGKILL it). */
function spawnPublish(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, CI: 'true', ...env }, stdio: 'ignore' });
  return { child, done: new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal === 'SIGKILL' ? null : code))) };
}

const hidden = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.') && n !== '.nginx-upload') : []);

describe('row 3: an index.json with an incomplete entry', () => {
  const good = { tag: '0.1.0', files: { xz: { name: 'other_0.1.0.xz', size: 1 }, meta: { name: 'other_0.1.0.xz.meta', size: 2 }, skein: { name: 'other_0.1.0.xz.skein', size: 257 } }, skein: 'ab'.repeat(128), signed: false, keyFingerprint: null, published: '2026-01-01T00:00:00.000Z', freebsdRelease: '13.0', imageVersion: '0.1.0' };
  const damaged: Array<[string, unknown, RegExp]> = [
    ['an entry with only a tag', { [POT]: { tags: { '0.1.0': { tag: '0.1.0' } } } }, /pots\["matrix-synapse-nomad-amd64-13_0"\]\.tags\["0\.1\.0"\]\.files is missing/],
    ['tags that are a string', { [POT]: { tags: 'abc' } }, /pots\["matrix-synapse-nomad-amd64-13_0"\]\.tags is not an object of tags/],
    ['a broken entry of another pot', { other: { tags: { '0.1.0': good, '0.2.0': { ...good, tag: '0.2.0', files: { ...good.files, xz: { name: '../x', size: 1 } } } } } }, /pots\["other"\]\.tags\["0\.2\.0"\]\.files\.xz\.name is not a file name/],
  ];
  for (const [what, pots, re] of damaged) {
    it(`${what}: refused before any upload, one line naming the file and the entry`, async () => {
      const repo = join(base, `damaged-${what.replace(/\W+/g, '-')}`);
      mkdirSync(repo, { recursive: true });
      const text = `${JSON.stringify({ format: 'pot-image-repository/1', updated: '2026-01-01T00:00:00.000Z', pots })}\n`;
      writeFileSync(join(repo, 'index.json'), text);
      const r = await runCli(publishArgs(makeImage(base, '1.0.0'), '1.0.0', repo));
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /index\.json is damaged: /);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /Cannot read properties/);
      assert.deepEqual(readdirSync(repo), ['index.json'], 'nothing was uploaded');
      assert.equal(readFileSync(join(repo, 'index.json'), 'utf8'), text);
    });
  }
});

describe('row 5: a publish killed with SIGKILL', () => {
  let nginx: NginxServer;
  before(async () => { nginx = await startNginx({ users: { ci: creds.POT_IMAGE_REPO_PASSWORD } }); });
  after(async () => { await nginx?.stop(); });

  it('folder: the next publish removes the temporary the killed one left, says so, and completes', async () => {
    const repo = join(base, 'killed-folder');
    mkdirSync(repo, { recursive: true });
    const image = makeImage(base, '2.0.0', { bytes: 64 * 1024 * 1024 });
    // Kill the publisher the moment its .xz temporary appears (no timing guess).
    const watcher = watch(repo);
    const run = spawnPublish(publishArgs(image, '2.0.0', repo));
    await new Promise<void>((resolve) => watcher.on('change', (_event, name) => {
      if (String(name).startsWith(`.${POT}_2.0.0.xz.`) && String(name).endsWith('.part')) { run.child.kill('SIGKILL'); resolve(); }
    }));
    watcher.close();
    assert.equal(await run.done, null, 'killed');
    const left = hidden(repo);
    assert.equal(left.length, 1, `the kill left its temporary: ${left.join(', ')}`);
    assert.equal(existsSync(join(repo, `${POT}_2.0.0.xz.skein`)), false, 'the tag is not visible');

    const again = await runCli(publishArgs(image, '2.0.0', repo));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`${left[0]!.replace(/\./g, '\\.')}: removed a temporary file left by an interrupted publish`));
    assert.deepEqual(hidden(repo), []);
  });

  it('WebDAV: killed between the upload and its MOVE, the next publish leaves no temporary and verifies', async () => {
    const repoDir = join(nginx.root, 'killed');
    const image = makeImage(base, '2.1.0', { bytes: 1024 * 1024 });
    // A proxy that SIGKILLs the publisher when it asks nginx to MOVE the .xz into place.
    let victim: ChildProcess | undefined;
    const proxy = createServer((req, res) => {
      if (req.method === 'MOVE' && /\.xz\.[0-9a-f]+\.part$/.test(req.url ?? '')) {
        victim?.kill('SIGKILL');
        res.destroy();
        return;
      }
      const upstream = httpRequest({ host: '127.0.0.1', port: nginx.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const run = spawnPublish(publishArgs(image, '2.1.0', `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/killed/`), creds);
      victim = run.child;
      assert.equal(await run.done, null, 'killed');
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
    const left = hidden(repoDir);
    assert.equal(left.length, 1, `the kill left its temporary: ${left.join(', ')}`);

    const again = await runCli(publishArgs(image, '2.1.0', `${nginx.url}killed/`), { env: creds });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /\.xz\.[0-9a-f]+\.part: a recent temporary file of this image .* this publish replaces it/);
    assert.deepEqual(hidden(repoDir), []);
    const result = await verifyImage({ baseUrl: `${nginx.url}killed/`, pot: POT, tag: '2.1.0' });
    assert.equal(result.ok, true, result.failure?.message);
  });
});
