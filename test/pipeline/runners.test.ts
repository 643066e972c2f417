// PlanRunner (--dry-run), InterruptibleRunner (Ctrl-C) and secret collection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InterruptibleRunner } from '../../pipeline/runner/interruptible-runner.js';
import { PlanRunner } from '../../pipeline/runner/plan-runner.js';
import { secretsFromEnv } from '../../pipeline/runner/secrets.js';
import { UserError } from '../../pipeline/errors.js';
import type { CommandRunner } from '../../pipeline/runner/types.js';

test('PlanRunner records shell-quoted commands and notes in order, succeeds with empty output, redacts', async () => {
  const plan = new PlanRunner(['s3cret']);
  const r = await plan.run('pot', ['export', '-D', '/a dir', '-t', "it's"]);
  assert.deepEqual([r.exitCode, r.stdout, r.stderr], [0, '', '']);
  plan.record('pot-image sign --secret KEY FILE');
  await plan.run('curl', ['-u', 'user:s3cret', 'https://x'], { secrets: ['user'] });
  assert.deepEqual(plan.lines, [
    "pot export -D '/a dir' -t 'it'\\''s'",
    'pot-image sign --secret KEY FILE',
    'curl -u ***:*** https://x',
  ]);
});

test('InterruptibleRunner: after interrupt() the running command is aborted and no new one starts', async () => {
  let aborted = 0;
  let release!: () => void;
  const inner: CommandRunner = {
    run: (command, args) => new Promise((resolve) => { release = () => resolve({ command, args, exitCode: 143, stdout: '', stderr: '', durationMs: 1 }); }),
    abort: () => { aborted++; release(); },
  };
  const runner = new InterruptibleRunner(inner);
  const running = runner.run('pot', ['create']);
  runner.interrupt('SIGINT');
  await assert.rejects(running, (e: unknown) => e instanceof UserError && e.exitCode === 130 && /interrupted by SIGINT/.test(e.message));
  await assert.rejects(runner.run('pot', ['snapshot']), /interrupted by SIGINT/);
  assert.equal(aborted, 1);
  assert.equal(runner.interrupted, 'SIGINT');
});

test('secretsFromEnv takes values of credential-like variables only', () => {
  const found = secretsFromEnv({ REPO_PASSWORD: 'pw-1234', SIGN_KEY_PASSPHRASE: 'pass-5678', WEBDAV_TOKEN: 'tok-9', PATH: '/usr/bin', HOME: '/root', SHORT_SECRET: 'ab' });
  assert.deepEqual(found.sort(), ['pass-5678', 'pw-1234', 'tok-9']);
});
