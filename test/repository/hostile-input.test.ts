// Issue 11, as an attacker would try it: a hostile server (a broken redirect, a
// trickling socket), names that are paths, credentials in URLs, and short passwords
// that redaction must neither reveal nor smear over ordinary words.
import { strict as assert } from 'node:assert';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { redact } from '../../pipeline/runner/redact.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { POT, makeImage } from './fake-image.js';

const base = tempDir('pot-image-hostile-');

function oneLine(r: CliResult): void {
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

function listen(server: Server | TcpServer): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)));
}

describe('a hostile server', () => {
  let redirecting: Server;
  let trickling: TcpServer;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let redirectUrl = '';
  let trickleUrl = '';

  before(async () => {
    // Every file redirects to a Location that is not a URL.
    redirecting = createServer((_req, res) => {
      res.writeHead(302, { location: 'http://[::1' });
      res.end();
    });
    redirectUrl = await listen(redirecting);
    // Headers at once, then one byte of the body every 100 ms (never silent for a whole second);
    // /slow-headers/ sends even its status line one byte at a time.
    trickling = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', (request) => {
        const slowHeaders = request.toString().includes('/slow-headers/');
        const text = Buffer.from(slowHeaders
          ? `HTTP/1.1 200 OK\r\ncontent-length: 257\r\n\r\n${'a'.repeat(256)}\n`
          : `HTTP/1.1 200 OK\r\ncontent-length: 300000\r\ncontent-type: application/json\r\n\r\n`);
        let at = 0;
        if (!slowHeaders) {
          socket.write(text);
          at = text.length;
        }
        const timer = setInterval(() => {
          if (socket.destroyed) { clearInterval(timer); return; }
          socket.write(at < text.length ? text.subarray(at, at + 1) : 'a');
          at++;
        }, 100);
        timers.add(timer);
        socket.once('close', () => clearInterval(timer));
      });
    });
    trickleUrl = await listen(trickling);
  });
  after(async () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    await new Promise((r) => redirecting.close(r));
    await new Promise((r) => trickling.close(r));
  });

  it('row 4: a redirect to a Location that is not a URL is one line, and JSON under --json', async () => {
    const r = await runCli(['verify', '--url', redirectUrl, '--pot', POT, '--tag', '1.0.0', '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /at .*\(.*:\d+:\d+\)|TypeError/, 'no stack trace');
    const result = JSON.parse(r.stdout);
    assert.equal(result.ok, false);
    assert.equal(result.failure.step, 'skein');
    assert.match(result.failure.message, /redirected \(HTTP 302\) to 'http:\/\/\[::1', which is not a valid URL/);
    const plain = await runCli(['verify', '--url', redirectUrl, '--pot', POT, '--tag', '1.0.0']);
    assert.equal(plain.code, 1);
    oneLine(plain);
    assert.match(plain.stderr, /verify failed: cannot fetch .*\.xz\.skein: redirected/);
  });

  it("row 4: publish's consumer check against that server fails with one line", async () => {
    const image = makeImage(base, '1.0.0');
    const r = await runCli(['publish', '--from', image, '--pot', POT, '--tag', '1.0.0', '--to', join(base, 'repo-redirect'), '--public-url', redirectUrl]);
    assert.equal(r.code, 1, r.stderr);
    oneLine(r);
    assert.match(r.stderr, /the consumer's check from http:\/\/127\.0\.0\.1:\d+\/ failed: cannot fetch .*redirected/);
  });

  it('row 6: verify --timeout ends a trickling transfer in bounded time (body and headers)', async () => {
    for (const path of ['', 'slow-headers/']) {
      const started = Date.now();
      let child: import('node:child_process').ChildProcess | undefined;
      // Safety net only: a client that never gives up is killed, and the test fails on the time.
      const guard = setTimeout(() => child?.kill('SIGKILL'), 30_000);
      const r = await runCli(['verify', '--url', `${trickleUrl}${path}`, '--pot', POT, '--tag', '1.0.0', '--timeout', '1'], { onSpawn: (c) => { child = c; } });
      clearTimeout(guard);
      const seconds = (Date.now() - started) / 1000;
      assert.equal(r.code, 1, `${path}: ${r.stderr}`);
      oneLine(r);
      assert.match(r.stderr, path ? /no data for 1 s \(after 3 attempts\)/ : /too slow: \d+ bytes in 1 s, below the floor of 16 KiB\/s/);
      assert.ok(seconds < 15, `${path}: verify took ${seconds} s against a trickling server`);
    }
  });

  it('row 6: publish --timeout ends a trickling WebDAV answer in bounded time', async () => {
    const image = makeImage(base, '1.0.1');
    const started = Date.now();
    let child: import('node:child_process').ChildProcess | undefined;
    const guard = setTimeout(() => child?.kill('SIGKILL'), 30_000);
    const r = await runCli(['publish', '--from', image, '--pot', POT, '--tag', '1.0.1', '--to', trickleUrl, '--timeout', '1'],
      { env: { POT_IMAGE_REPO_TOKEN: 'tok' }, onSpawn: (c) => { child = c; } });
    clearTimeout(guard);
    assert.equal(r.code, 1, r.stderr);
    oneLine(r);
    assert.match(r.stderr, /GET http:\/\/127\.0\.0\.1:\d+\/index\.json: too slow/);
    assert.ok((Date.now() - started) / 1000 < 15);
  });
});

describe('names and URLs from the command line', () => {
  it('row 7: verify refuses a --pot or --tag that is a path (exit 2), even where the files exist', async () => {
    // An image outside the repository folder that ../ would reach.
    const repo = join(base, 'repo-names');
    mkdirSync(repo, { recursive: true });
    const outside = join(base, 'outside');
    const image = makeImage(base, '1.0.0', { pot: 'x' });
    mkdirSync(outside, { recursive: true });
    for (const f of readdirSync(image)) copyFileSync(join(image, f), join(outside, f));
    for (const [pot, tag, re] of [['../outside/x', '1.0.0', /--pot: .*path separator/], ['x', '../1.0.0', /--tag: .*path separator/], ['..', '1.0.0', /--pot: .*'\.\.'/]] as const) {
      const r = await runCli(['verify', '--url', repo, '--pot', pot, '--tag', tag]);
      assert.equal(r.code, 2, `${pot} ${tag}: ${r.stdout}${r.stderr}`);
      oneLine(r);
      assert.match(r.stderr, re);
    }
  });

  it('row 7: every command takes the same names (nomad-job --tag too)', async () => {
    const r = await runCli(['nomad-job', '--tag', '../1.0.0', '--repo-url', 'https://images.example.org/']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--tag: the tag "\.\.\/1\.0\.0" contains a path separator/);
  });

  it('row 8: credentials in --public-url, verify --url or --repo-url are refused (exit 2) and never printed', async () => {
    const repo = join(base, 'repo-creds');
    const image = makeImage(base, '1.0.0');
    const cases: Array<[string[], RegExp]> = [
      [['publish', '--from', image, '--pot', POT, '--tag', '1.0.0', '--to', repo, '--public-url', 'http://ci:hunter2@images.example.org/'], /--public-url: the URL http:\/\/images\.example\.org\/ carries credentials/],
      [['verify', '--url', 'http://ci:hunter2@127.0.0.1:9/', '--pot', POT, '--tag', '1.0.0', '--json'], /--url: the URL http:\/\/127\.0\.0\.1:9\/ carries credentials/],
      [['nomad-job', '--repo-url', 'https://ci:hunter2@images.example.org/'], /--repo-url: the URL https:\/\/images\.example\.org\/ carries credentials/],
      [['publish', '--from', image, '--pot', POT, '--tag', '1.0.0', '--to', 'http://ci:hunter2@[::1/'], /--to: 'http:\/\/\[::1\/' is not a URL/],
      [['build', '--dry-run', '--public-url', 'https://ci:hunter2@images.example.org/'], /--public-url: the URL https:\/\/images\.example\.org\/ carries credentials/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args[0]}: ${r.stdout}${r.stderr}`);
      oneLine(r);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
      assert.doesNotMatch(r.stderr, /\bci\b/);
    }
    assert.equal(existsSync(repo), false, 'nothing was published');
  });
});

describe('redaction (row 14)', () => {
  it('a short password neither smears ordinary words nor shows where it was', async () => {
    for (const password of ['re', '1']) {
      const port = await freePort();
      const image = makeImage(base, '1.0.0');
      const r = await runCli(['publish', '--from', image, '--pot', POT, '--tag', '1.0.0', '--to', `http://127.0.0.1:${port}/`],
        { env: { POT_IMAGE_REPO_USER: 'ci', POT_IMAGE_REPO_PASSWORD: password } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`cannot reach the repository at http://127\\.0\\.0\\.1:${port}/index\\.json`), `password ${password}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\*\*\*/, `password ${password}`);
    }
  });

  it('a credential with a line break is refused (exit 2), not sent as a broken header', async () => {
    const r = await runCli(['publish', '--from', makeImage(base, '1.0.0'), '--pot', POT, '--tag', '1.0.0', '--to', 'http://127.0.0.1:9/'],
      { env: { POT_IMAGE_REPO_TOKEN: 'tok\nInjected: yes' } });
    assert.equal(r.code, 2, r.stderr);
    oneLine(r);
    assert.match(r.stderr, /POT_IMAGE_REPO_TOKEN contains a line break or another control character/);
    assert.doesNotMatch(r.stderr, /Injected/);
  });

  it('a secret standing as a value is blanked; long secrets everywhere', () => {
    assert.equal(redact('cannot reach the repository at http://127.0.0.1:9/', ['re', '1']), 'cannot reach the repository at http://127.0.0.1:9/');
    assert.equal(redact('curl -u ci:re http://h/ -H "X: re" re.', ['re']), 'curl -u ci:*** http://h/ -H "X: ***" ***.');
    assert.equal(redact('token=abcdef0123456789abcdef, glued xabcdef0123456789abcdefx', ['abcdef0123456789abcdef']), 'token=***, glued x***x');
    assert.equal(redact('MYSHAREDSECRET=ab cd', ['ab cd', 'ab']), 'MYSHAREDSECRET=***');
    assert.equal(redact('nothing here', []), 'nothing here');
  });
});

describe('the nginx repository config (row 12)', () => {
  let nginx: import('../helpers/nginx.js').NginxServer | undefined;
  before(async () => {
    const { startNginx } = await import('../helpers/nginx.js');
    nginx = await startNginx({ users: { ci: 'basic-password-1' }, tokens: ['MixedCaseToken123', 'tok.en+9/x'] });
  });
  after(async () => { await nginx?.stop(); });

  it('accepts a bearer token byte for byte only: not in another case, not as a prefix', async () => {
    const put = async (authorization: string, name: string) => (await fetch(`${nginx!.url}${name}`, { method: 'PUT', headers: { authorization }, body: 'x' })).status;
    assert.ok([201, 204].includes(await put('Bearer MixedCaseToken123', 'a')));
    assert.ok([201, 204].includes(await put('Bearer tok.en+9/x', 'b')), 'a token with regex characters, escaped as docs/publishing.md says');
    for (const wrong of ['bearer mixedcasetoken123', 'Bearer mixedcasetoken123', 'BEARER MixedCaseToken123', 'Bearer MixedCaseToken1234', 'Bearer MixedCaseToken12', 'Bearer tokxen+9/x', 'Bearer tok.en+9/xx']) {
      assert.equal(await put(wrong, 'c'), 401, wrong);
    }
    assert.equal(existsSync(join(nginx!.root, 'c')), false);
  });
});
