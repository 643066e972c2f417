// The contract every pot-image command keeps (pipeline/cli/contract.ts, README "The command
// line"): --help and `help <command>`, one option vocabulary, a missing file and a bad value
// are exit 2 with one line, --json gives one JSON document on stdout, SIGTERM exits 143 with
// a line saying so. Fast cases run main() in this process; SIGTERM runs the real program.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import { main } from '../../pipeline/cli/main.js';
import { commandNames, loadCommand } from '../../pipeline/cli/commands/index.js';
import { DEPRECATED_OPTIONS, EXIT_CODE_TABLE, VOCABULARY } from '../../pipeline/cli/contract.js';
import { CLI, PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeImage, makeKeyPair, POT } from '../repository/fake-image.js';

interface Run { code: number; stdout: string; stderr: string }

// Writes made inside a main() call are captured; any other (the test runner's own reports) pass through.
const capture = new AsyncLocalStorage<{ stdout: string; stderr: string }>();
for (const [stream, key] of [[process.stdout, 'stdout'], [process.stderr, 'stderr']] as const) {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const store = capture.getStore();
    if (!store) return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    store[key] += String(chunk);
    return true;
  }) as typeof stream.write;
}

/** main() in this process with stdout and stderr captured. */
async function inProcess(argv: string[]): Promise<Run> {
  const store = { stdout: '', stderr: '' };
  const code = await capture.run(store, () => main(argv));
  return { code, ...store };
}

const dir = tempDir('pot-image-contract-');
const missing = join(dir, 'no-such-file');
const keys = makeKeyPair(dir, 'k');
const imageDir = makeImage(join(dir, 'images'), '1.2.3', { key: keys });
const message = join(dir, 'message.txt');
writeFileSync(message, 'hello\n');

/** Per command: an argument list naming a missing file, one with a bad value, one that succeeds with --json. */
const CASES: Record<string, { missingFile: string[]; badValue: string[]; json?: string[] }> = {
  build: { missingFile: ['--definition', missing], badValue: ['--dry-run', '--arch', 'sparc64'] },
  plan: { missingFile: ['--definition', missing], badValue: ['--compression', '12'], json: ['--release', '14.5'] },
  hash: { missingFile: [missing], badValue: ['--level', '3', message], json: [message] },
  keygen: {
    missingFile: ['--public-key', join(missing, 'k.pub'), '--secret-key', join(missing, 'k.sec'), '--no-passphrase'],
    badValue: ['--public-key', join(dir, 'x.pub'), '--secret-key', join(dir, 'x.sec'), '--no-passphrase', '--comment', 'two\nlines'],
    json: ['--public-key', join(dir, 'new.pub'), '--secret-key', join(dir, 'new.sec'), '--no-passphrase'],
  },
  sign: { missingFile: ['--secret-key', missing, message], badValue: ['--secret-key', keys.sec], json: ['--secret-key', keys.sec, message] },
  verify: {
    missingFile: ['--public-url', imageDir, '--pot', POT, '--tag', '1.2.3', '--public-key', missing],
    badValue: ['--public-url', imageDir, '--pot', POT, '--tag', '1.2.3', '--timeout', 'soon'],
    json: ['--public-url', imageDir, '--pot', POT, '--tag', '1.2.3', '--public-key', keys.pub],
  },
  publish: {
    missingFile: ['--from', missing, '--pot', POT, '--tag', '1.2.3', '--to', join(dir, 'repo')],
    badValue: ['--from', imageDir, '--pot', POT, '--tag', 'latest', '--to', join(dir, 'repo')],
    json: ['--from', imageDir, '--pot', POT, '--tag', '1.2.3', '--to', join(dir, 'repo'), '--public-key', keys.pub],
  },
  serve: { missingFile: ['--dir', missing], badValue: ['--port', '70000'] },
  'nomad-job': {
    missingFile: ['--check', missing],
    badValue: ['--service-provider', 'zookeeper', '--public-url', 'https://pots.example.org/'],
    json: ['--check', join(PROJECT_ROOT, 'image', 'matrix-synapse.nomad')],
  },
  'check-version': { missingFile: ['--definition', missing], badValue: ['--tag', 'latest'], json: [] },
};

function oneErrorLine(r: Run, what: string): string {
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('warning: ') && !l.startsWith('note: '));
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^pot-image: /, what);
  return lines[0]!;
}

describe('every command keeps the contract', () => {
  it('the cases cover every command', () => {
    assert.deepEqual(Object.keys(CASES).sort(), [...commandNames].sort());
  });

  it('--version prints the program version; help <command> is <command> --help', async () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = await inProcess(['--version']);
    assert.equal(v.code, 0);
    assert.equal(v.stdout, `pot-image ${pkg.version}\n`);
    const general = await inProcess(['help']);
    assert.equal(general.code, 0);
    assert.match(general.stdout, /pot-image help <command>/);
    const unknown = await inProcess(['help', 'publsh']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'publsh'/);
  });

  for (const name of commandNames) {
    describe(name, () => {
      const c = CASES[name]!;

      it('--help and help <command>: exit 0, the same text, listing --verbose, --help and --json when it has a result', async () => {
        const command = (await loadCommand(name))!;
        const a = await inProcess([name, '--help']);
        const b = await inProcess(['help', name]);
        assert.equal(a.code, 0);
        assert.equal(b.code, 0);
        assert.equal(a.stdout, b.stdout);
        assert.match(a.stdout, new RegExp(`^usage: pot-image ${name}`));
        assert.match(a.stdout, /^ {2}--verbose /m);
        assert.match(a.stdout, /^ {2}--help /m);
        assert.equal(/^ {2}--json /m.test(a.stdout), command.json === true, '--json listed exactly when taken');
        if (name === 'plan') assert.doesNotMatch(a.stdout, /^ +--dry-run/m, 'plan takes no --dry-run');
      });

      it('uses only the vocabulary\'s option names', async () => {
        const command = (await loadCommand(name))!;
        for (const option of Object.keys(command.options)) {
          assert.ok(option in VOCABULARY, `${name} --${option} is not in the vocabulary`);
          assert.ok(!(option in DEPRECATED_OPTIONS), `${name} --${option} is a deprecated name`);
        }
      });

      it('a missing file: exit 2, one line naming it; with --json also one JSON document', async () => {
        const r = await inProcess([name, ...c.missingFile]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(oneErrorLine(r, 'missing file'), /no-such-file/);
        const command = (await loadCommand(name))!;
        if (command.json) {
          const j = await inProcess([name, ...c.missingFile, '--json']);
          assert.equal(j.code, 2);
          const doc = JSON.parse(j.stdout) as { ok: boolean; exitCode: number; error: string };
          assert.equal(doc.ok, false);
          assert.equal(doc.exitCode, 2);
          assert.match(doc.error, /no-such-file/);
        }
      });

      it('a bad value or an unknown option: exit 2, one line, nothing on stdout', async () => {
        const r = await inProcess([name, ...c.badValue]);
        assert.equal(r.code, 2, r.stderr);
        oneErrorLine(r, 'bad value');
        assert.equal(r.stdout, '');
        const u = await inProcess([name, '--no-such-option']);
        assert.equal(u.code, 2);
        assert.match(oneErrorLine(u, 'unknown option'), new RegExp(`pot-image ${name} --help`));
      });

      if (c.json) {
        it('--json: exactly one JSON document on stdout', async () => {
          const r = await inProcess([name, ...c.json!, '--json']);
          assert.equal(r.code, 0, r.stderr);
          const doc = JSON.parse(r.stdout) as { ok: boolean };
          assert.equal(doc.ok, true);
        });
      }
    });
  }

  it('old option names still work, with a warning naming the new one', async () => {
    const r = await inProcess(['plan', '--version', '0.11.0', '--publish-to', join(dir, 'r'), '--release', '14.5', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --version is deprecated; use --tag/);
    assert.match(r.stderr, /warning: --publish-to is deprecated; use --to/);
    assert.equal((JSON.parse(r.stdout) as { tag: string }).tag, '0.11.0');
  });

  it('the documented `npm run pot-image` runs the sources without compiling, paths relative to the user\'s folder', async () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const script of ['pot-image', 'build-image']) {
      assert.doesNotMatch(pkg.scripts[script]!, /\b(tsc|npm run)\b|build &&/, `${script} must not recompile the project on every call`);
    }
    const r = await new Promise<Run>((resolve) => {
      const child = spawn('npm', ['--prefix', PROJECT_ROOT, 'run', '-s', 'pot-image', '--', 'hash', 'message.txt'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{256}$/m);
  });

  it('README documents the exit codes and the shared options', () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    for (const [code] of EXIT_CODE_TABLE) assert.match(readme, new RegExp(`^\\| ${code} \\|`, 'm'), `exit ${code} in README`);
    for (const option of ['definition', 'tag', 'pot', 'from', 'to', 'public-url', 'secret-key', 'public-key', 'json', 'verbose']) {
      assert.match(readme, new RegExp(`^\\| .*\`--${option}[ \`]`, 'm'), `--${option} in README's vocabulary`);
    }
    for (const [old, now] of Object.entries(DEPRECATED_OPTIONS)) assert.ok(readme.includes(`\`--${old}\` → \`--${now}\``), `--${old} in README`);
  });
});

// ---- SIGTERM: the real program, stopped while it is busy ----

function spawnCli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run>; stderrSeen: (re: RegExp) => Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: PROJECT_ROOT, env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => {
    stderr += d;
    for (const w of [...waiters]) if (w.re.test(stderr)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : 1), stdout, stderr })));
  const stderrSeen = (re: RegExp) => new Promise<void>((resolve) => { if (re.test(stderr)) resolve(); else waiters.push({ re, resolve }); });
  return { child, done, stderrSeen };
}

function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

/** Resolves once the command has opened FIFO for reading (so it is running, its handlers set). */
async function readerOpened(path: string) {
  return open(path, 'w');
}

function assertTerminated(r: Run, what: string): void {
  assert.equal(r.code, 143, `${what}: ${r.stderr}`);
  assert.match(r.stderr, /interrupted by SIGTERM/, what);
}

describe('SIGTERM: exit 143 and a line saying so, for every command', { timeout: 120_000 }, () => {
  const servers: Array<Server | HttpServer> = [];
  after(() => { for (const s of servers) s.close(); });

  /** A TCP server that accepts and never answers; resolves with its port and a "connected" promise. */
  async function stalled(): Promise<{ port: number; connected: Promise<void> }> {
    let connected!: () => void;
    const seen = new Promise<void>((r) => { connected = r; });
    const server = createServer((socket) => { socket.on('error', () => undefined); connected(); });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as { port: number }).port, connected: seen };
  }

  it('build (while a builder command runs)', async () => {
    const bin = tempDir();
    // The builder's first command, stalled: the build is busy in preflight when the signal comes.
    writeFileSync(join(bin, 'uname'), '#!/bin/sh\necho uname-stand-in-started >&2\nexec tail -f /dev/null\n');
    chmodSync(join(bin, 'uname'), 0o755);
    const run = spawnCli(['build', '--verbose', '--no-publish', '--output', join(tempDir(), 'out')], { PATH: `${bin}:${process.env.PATH}` });
    await run.stderrSeen(/uname-stand-in-started/);
    run.child.kill('SIGTERM');
    const r = await run.done;
    assertTerminated(r, 'build');
    assert.match(r.stderr, /build interrupted by SIGTERM during preflight/);
  });

  for (const name of ['plan', 'check-version', 'nomad-job'] as const) {
    it(`${name} (while reading the image definition)`, async () => {
      const path = fifo(`${name}.yaml`);
      const run = spawnCli([name, '--definition', path]);
      const writer = await readerOpened(path);
      run.child.kill('SIGTERM');
      // The handler has run once it says so; only then is the FIFO closed (a read still blocked
      // in libuv's thread pool holds even process.exit() until it returns).
      await run.stderrSeen(/SIGTERM/);
      await writer.close();
      const r = await run.done;
      assertTerminated(r, name);
    });
  }

  it('hash (while reading its input)', async () => {
    const path = fifo('hash-input');
    const run = spawnCli(['hash', path]);
    const writer = await readerOpened(path);
    await writer.write('partial input');
    run.child.kill('SIGTERM');
    await run.stderrSeen(/SIGTERM/);
    await writer.close();
    const r = await run.done;
    assertTerminated(r, 'hash');
    assert.equal(r.stdout, '', 'no digest of a partial input');
  });

  it('sign (no signature written after the signal)', async () => {
    // A passphrase-protected key: sign is busy decrypting it when the signal comes.
    const pass = 'correct horse battery staple';
    process.env.POT_IMAGE_KEY_PASSPHRASE = pass;
    const made = await inProcess(['keygen', '--public-key', join(dir, 'p.pub'), '--secret-key', join(dir, 'p.sec')]);
    delete process.env.POT_IMAGE_KEY_PASSPHRASE;
    assert.equal(made.code, 0, made.stderr);
    const file = join(dir, 'to-sign');
    writeFileSync(file, 'message');
    const run = spawnCli(['sign', '--verbose', '--secret-key', join(dir, 'p.sec'), file], { POT_IMAGE_KEY_PASSPHRASE: pass });
    await run.stderrSeen(/sign: decrypting the secret key/);
    run.child.kill('SIGTERM');
    const r = await run.done;
    assertTerminated(r, 'sign');
    assert.ok(!existsSync(`${file}.sig`), 'no .sig');
  });

  it('keygen (no key file left behind)', async () => {
    const out = tempDir();
    const run = spawnCli(['keygen', '--verbose', '--public-key', join(out, 'k.pub'), '--secret-key', join(out, 'k.sec')],
      { POT_IMAGE_KEY_PASSPHRASE: 'correct horse battery staple' });
    await run.stderrSeen(/keygen: making the key pair/);
    run.child.kill('SIGTERM');
    const r = await run.done;
    assertTerminated(r, 'keygen');
    assert.ok(!existsSync(join(out, 'k.pub')) && !existsSync(join(out, 'k.sec')), 'no key files');
  });

  it('verify (while the server stalls)', async () => {
    const server = await stalled();
    const run = spawnCli(['verify', '--public-url', `http://127.0.0.1:${server.port}/`, '--pot', POT, '--tag', '1.2.3']);
    await server.connected;
    run.child.kill('SIGTERM');
    assertTerminated(await run.done, 'verify');
  });

  it('publish (during the upload: no temporary left)', async () => {
    // A WebDAV server that has nothing yet and takes the first upload's body without ever answering.
    const requests: string[] = [];
    let putSeen!: () => void;
    const put = new Promise<void>((r) => { putSeen = r; });
    const server = createHttpServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      if (req.method === 'PUT') { req.resume(); putSeen(); return; }
      res.statusCode = req.method === 'MKCOL' ? 201 : req.method === 'DELETE' ? 204 : 404;
      req.resume();
      req.on('end', () => res.end());
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const run = spawnCli(['publish', '--from', imageDir, '--pot', POT, '--tag', '1.2.3', '--to', `http://127.0.0.1:${port}/images/`]);
    await put;
    run.child.kill('SIGTERM');
    const r = await run.done;
    assertTerminated(r, 'publish');
    const temp = requests.find((q) => q.startsWith('PUT '))!.slice(4);
    assert.ok(requests.includes(`DELETE ${temp}`), `the temporary upload is removed: ${requests.join(', ')}`);
  });

  it('serve (stops listening)', async () => {
    const run = spawnCli(['serve', '--dir', dir, '--port', '0', '--json']);
    let url = '';
    await new Promise<void>((resolve) => run.child.stdout!.on('data', function onData(this: unknown, d: Buffer) {
      url += d;
      if (url.includes('}')) resolve();
    }));
    const { url: served } = JSON.parse(url) as { url: string };
    run.child.kill('SIGTERM');
    assertTerminated(await run.done, 'serve');
    await assert.rejects(fetch(served));
  });
});
