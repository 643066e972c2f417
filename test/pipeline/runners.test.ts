// The plan host (--dry-run), the interruptible host (Ctrl-C) and secret collection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InterruptibleHost } from '../../pipeline/builder/interruptible-host.js';
import { LocalHost } from '../../pipeline/builder/local-host.js';
import { PlanBook, PlanHost } from '../../pipeline/builder/plan-host.js';
import { secretsFromEnv } from '../../pipeline/runner/secrets.js';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { UserError } from '../../pipeline/errors.js';
import { ExecaRunner, failureLine } from '../../pipeline/runner/execa-runner.js';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import type { CommandRunner } from '../../pipeline/runner/types.js';

test('PlanHost records shell-quoted commands, file operations and in-process work in order, runs nothing, redacts, names a remote host', async () => {
  const book = new PlanBook(['s3cret']);
  const plan = new PlanHost(book);
  const builder = new PlanHost(book, 'root@b:22');
  const r = await plan.run('pot', ['export', '-D', '/a dir', '-t', "it's"]);
  assert.deepEqual([r.exitCode, r.stdout, r.stderr, r.planned], [0, '', '', true]);
  let ran = false;
  assert.equal(await plan.inProcess('pot-image sign --secret-key KEY FILE', async () => { ran = true; }), undefined);
  assert.equal(ran, false, 'in-process work is only described');
  await plan.run('curl', ['-u', 'user:s3cret', 'https://x'], { secrets: ['user'] });
  await builder.makeDir('/x y');
  await builder.rename('/a', '/b');
  builder.record('# a comment is not marked');
  assert.deepEqual(book.lines, [
    "pot export -D '/a dir' -t 'it'\\''s'",
    'pot-image sign --secret-key KEY FILE',
    'curl -u ***:*** https://x',
    "[root@b:22] mkdir -p '/x y'",
    '[root@b:22] mv /a /b',
    '# a comment is not marked',
  ]);
});

test('InterruptibleHost: after interrupt() the running command is aborted and no new operation starts', async () => {
  let aborted = 0;
  let release!: () => void;
  const inner: CommandRunner = {
    run: (command, args) => new Promise((resolve) => { release = () => resolve({ command, args, exitCode: 143, stdout: '', stderr: '', durationMs: 1 }); }),
    abort: () => { aborted++; release(); },
  };
  const runner = new InterruptibleHost(new LocalHost(inner, tempDir()));
  const running = runner.run('pot', ['create']);
  runner.interrupt('SIGINT');
  await assert.rejects(running, (e: unknown) => e instanceof UserError && e.exitCode === 130 && /interrupted by SIGINT/.test(e.message));
  await assert.rejects(runner.run('pot', ['snapshot']), /interrupted by SIGINT/);
  await assert.rejects(runner.makeTempDir('x-'), /interrupted by SIGINT/, 'file operations too');
  assert.equal(aborted, 1);
  assert.equal(runner.interrupted, 'SIGINT');
});

test('secretsFromEnv takes values of credential-like variables only', () => {
  const found = secretsFromEnv({ REPO_PASSWORD: 'pw-1234', SIGN_KEY_PASSPHRASE: 'pass-5678', WEBDAV_TOKEN: 'tok-9', PATH: '/usr/bin', HOME: '/root', SHORT_SECRET: 'ab' });
  assert.deepEqual(found.sort(), ['pass-5678', 'pw-1234', 'tok-9']);
});

test("failureLine: pot's last ###> line (printed on stdout, before its help) names the problem", () => {
  const stdout = '===>  Creating a new pot\n###>  option -i is mandatory with network type is alias\npot create [-hv] -p potname [-N network-type]\n  -h print this help\n';
  assert.equal(failureLine(stdout, ''), 'option -i is mandatory with network type is alias');
  assert.equal(failureLine('', "###>  /opt/pot does not exist, please run 'pot init'\n"), "/opt/pot does not exist, please run 'pot init'");
  assert.equal(failureLine('progress\n', 'zfs: cannot open x\n'), 'zfs: cannot open x');
  assert.equal(failureLine('only stdout\n', ''), 'only stdout');
});

test("ExecaRunner's error for a failing pot quotes pot's error line, not the help after it", async () => {
  const root = tempDir('runner-pot-');
  const runner = new ExecaRunner({ pathPrefix: [join(PROJECT_ROOT, 'test', 'stand-ins')] });
  await assert.rejects(
    runner.run('pot', ['create', '-p', 'x', '-t', 'single', '-b', '14.3', '-N', 'private-bridge'], { env: { POT_STANDIN_ROOT: root }, purpose: 'create the pot x' }),
    (e: unknown) => e instanceof UserError && /^could not create the pot x: '.*' exited 1 \(private-bridge network type requires -B option/.test(e.message),
  );
});

test('abort() reaches the whole process group: a grandchild (pot re-run under lockf) stops too', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  const pidFile = join(dir, 'grandchild.pid');
  const signals = join(dir, 'signals');
  const runner = new ExecaRunner();
  // sh waits for a grandchild, as pot's lockf wrapper does; the grandchild notes the signal it gets.
  // Signalling only sh would leave it running, holding the output pipe open: the build would hang.
  const grandchild = `trap "echo TERM >> '${signals}'; exit 143" TERM; echo $$ > '${pidFile}'; while :; do sleep 0.05; done`;
  const running = runner.run('sh', ['-c', `sh -c "$0" & wait`, grandchild], { allowFailure: true });
  const deadline = Date.now() + 10_000;
  while (!(existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()) && Date.now() < deadline) await delay(10);
  assert.ok(existsSync(pidFile), 'the grandchild started');
  runner.abort();
  const result = await running;
  assert.notEqual(result.exitCode, 0);
  assert.equal(readFileSync(signals, 'utf8'), 'TERM\n', 'the grandchild got SIGTERM');
});
