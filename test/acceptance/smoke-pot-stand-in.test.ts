// The smoke test end to end through the real runner and the pot stand-in
// (separate processes, as on a builder), with the Synapse stand-in as the jail's nginx.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SMOKE_DEFAULTS } from '../../pipeline/acceptance/settings.js';
import { SmokeTestFailure, runSmokeTest } from '../../pipeline/acceptance/smoke-test.js';
import { LocalHost } from '../../pipeline/builder/local-host.js';
import type { UserError } from '../../pipeline/errors.js';
import { ExecaRunner } from '../../pipeline/runner/execa-runner.js';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { preparedHost } from '../helpers/freebsd-host.js';
import { SynapseStandIn } from './synapse-stand-in.js';

const STAND_INS = join(PROJECT_ROOT, 'test', 'stand-ins');
const BUILT = 'matrix-synapse-nomad-amd64-13_0';
const hasStandIn = existsSync(join(STAND_INS, 'pot'));

const servers: SynapseStandIn[] = [];
after(async () => { for (const s of servers) await s.stop(); });

/**
 * The pot stand-in's jails are folders: no sshd runs in them. This `ssh` answers as the
 * image's sshd_config (control-user: publickey only) would, for the key the smoke test made.
 */
function jailSsh(): string {
  const dir = tempDir('acc-ssh-');
  writeFileSync(join(dir, 'ssh'), '#!/bin/sh\ncase " $* " in *" -i "*) echo control ;; *) echo "control@10.192.0.3: Permission denied (publickey)." >&2; exit 255 ;; esac\n', { mode: 0o755 });
  return dir;
}

function standInWorld() {
  const root = tempDir('acc-potroot-');
  const log = join(root, 'calls.log');
  const host = preparedHost(['13.0']);
  const sshDir = jailSsh();
  const env = { ...process.env, ...host.env, POT_STANDIN_ROOT: root, POT_STANDIN_LOG: log, PATH: `${STAND_INS}:${process.env.PATH ?? ''}` };
  const pot = (...args: string[]) => spawnSync(join(STAND_INS, 'pot'), args, { env, encoding: 'utf8' });
  assert.equal(pot('create', '-p', BUILT, '-t', 'single', '-b', '13.0', '-N', 'public-bridge').status, 0);
  assert.equal(pot('snapshot', '-p', BUILT).status, 0);
  // The jail's cook and Synapse logs, as the image would have them after a failed start.
  const jail = join(root, 'jails', BUILT, 'm');
  writeFileSync(join(jail, 'var', 'log', 'cook.log'), 'cook: starting\ncook: nginx failed: [emerg] bind() to 0.0.0.0:80 failed\n');
  /** The running clone's environment, read from the stand-in's state (what the jail would see). */
  const cloneEnv = () => {
    for (const name of readdirSync(join(root, 'jails'))) {
      if (name === BUILT || !existsSync(join(root, 'jails', name, 'conf', 'running.pid'))) continue;
      const state = JSON.parse(readFileSync(join(root, 'jails', name, 'conf', 'state.json'), 'utf8')) as { env: string[]; mounts: { source: string; mountpoint: string }[] };
      const env = Object.fromEntries(state.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      // What cook reads from /secrets/matrix-synapse.env in the folder mounted there.
      const secrets = state.mounts.find((m) => m.mountpoint === '/secrets');
      const file = secrets ? join(secrets.source, 'matrix-synapse.env') : '';
      if (file && existsSync(file)) {
        for (const line of readFileSync(file, 'utf8').split('\n')) if (line.includes('=')) env[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
      }
      return env;
    }
    return undefined;
  };
  const saved = { POT_STANDIN_ROOT: process.env.POT_STANDIN_ROOT, POT_STANDIN_LOG: process.env.POT_STANDIN_LOG, POT_IMAGE_HOST_ROOT: process.env.POT_IMAGE_HOST_ROOT };
  process.env.POT_STANDIN_ROOT = root;
  process.env.POT_STANDIN_LOG = log;
  process.env.POT_IMAGE_HOST_ROOT = host.root;
  const restore = () => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  };
  const calls = () => readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('pot ')).map((l) => l.split(' ')[1]);
  return { root, log, cloneEnv, restore, calls, runner: new ExecaRunner({ pathPrefix: [sshDir, STAND_INS], logFile: join(root, 'build.log') }) };
}

describe('smoke test against the pot stand-in', { skip: hasStandIn ? false : 'test/stand-ins/pot is not there' }, () => {
  it('clones, starts, checks, stops and destroys; the secret stays out of the build log', async () => {
    const w = standInWorld();
    try {
      const server = new SynapseStandIn({}, w.cloneEnv);
      servers.push(server);
      const url = await server.start();
      const scratchParent = tempDir('acc-scratch-');
      const result = await runSmokeTest({ runner: new LocalHost(w.runner, scratchParent), pot: BUILT, settings: { ...SMOKE_DEFAULTS, url, timeoutSeconds: 20 }, pollInitialMs: 50, pollMaxMs: 200 });
      assert.ok(result.checks.every((c) => c.ok));
      assert.deepEqual(w.calls().slice(2), ['clone', 'set-cmd', 'set-attribute', 'set-attribute', 'set-attribute', 'set-attribute', 'set-attribute', 'set-attribute',
        'copy-in', 'mount-in', 'mount-in', 'mount-in', 'info', 'set-env', 'start', 'stop', 'destroy']);
      assert.deepEqual(readdirSync(join(w.root, 'jails')), [BUILT], 'the clone is gone, the built pot stays');
      assert.deepEqual(readdirSync(scratchParent), []);
      const buildLog = readFileSync(join(w.root, 'build.log'), 'utf8');
      assert.doesNotMatch(buildLog, /MYSHAREDSECRET/, 'the secret is not passed through set-env at all');
      assert.equal(server.users.size, 1, 'exactly one user registered');
      for (const line of readFileSync(w.log, 'utf8').split('\n').filter((l) => l.includes('MYSHAREDSECRET='))) {
        const value = /MYSHAREDSECRET=(\S+)/.exec(line)![1]!;
        assert.ok(!buildLog.includes(value), 'the secret is not in the build log');
      }
    } finally {
      w.restore();
    }
  });

  it('with a PostgreSQL named in the definition: DB* through set-env, the password only in the secrets file, never logged', async () => {
    const w = standInWorld();
    const password = `pg'"|&\\$x\``;
    try {
      let seen: Record<string, string> | undefined;
      const server = new SynapseStandIn({}, () => (seen = w.cloneEnv() ?? seen));
      servers.push(server);
      const url = await server.start();
      const settings = { ...SMOKE_DEFAULTS, url, timeoutSeconds: 20, postgresql: { host: 'db.example.org', port: 6543, name: 'smoke', sslmode: 'require' as const, passwordEnv: 'SMOKE_PG' } };
      const result = await runSmokeTest({ runner: new LocalHost(w.runner, tempDir('acc-scratch-')), pot: BUILT, settings, env: { SMOKE_PG: password }, pollInitialMs: 50, pollMaxMs: 200 });
      assert.ok(result.checks.every((c) => c.ok));
      assert.ok(seen, 'the clone was seen running');
      assert.deepEqual([seen.DBHOST, seen.DBPORT, seen.DBNAME, seen.DBSSLMODE, seen.DBPASSWORD], ['db.example.org', '6543', 'smoke', 'require', password]);
      const setEnv = readFileSync(w.log, 'utf8').split('\n').filter((l) => l.startsWith('pot set-env'));
      assert.match(setEnv.join('\n'), /DBHOST=db\.example\.org/);
      assert.doesNotMatch(setEnv.join('\n'), /DBPASSWORD/, 'the password never goes through set-env');
      assert.ok(!readFileSync(join(w.root, 'build.log'), 'utf8').includes(password), 'the password is not in the build log');
    } finally {
      w.restore();
    }
  });

  it('with a PostgreSQL named but its password variable unset: one line naming the variable, exit 2, nothing cloned', async () => {
    const w = standInWorld();
    try {
      const settings = { ...SMOKE_DEFAULTS, url: 'http://127.0.0.1:9', postgresql: { host: 'db.example.org', passwordEnv: 'SMOKE_PG' } };
      const error = await runSmokeTest({ runner: new LocalHost(w.runner, tempDir()), pot: BUILT, settings, env: {} }).then(() => assert.fail('should fail'), (e: unknown) => e as UserError);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^acceptance\.smoke_test\.postgresql names db\.example\.org but SMOKE_PG is not set: export the database password in SMOKE_PG/);
      assert.ok(!error.message.includes('\n'));
      assert.ok(!w.calls().slice(2).includes('clone'), 'nothing was cloned');
    } finally {
      w.restore();
    }
  });

  it('on failure shows cook.log from the clone and still destroys it', async () => {
    const w = standInWorld();
    try {
      const server = new SynapseStandIn({ health: 'down' }, w.cloneEnv);
      servers.push(server);
      const url = await server.start();
      const scratchParent = tempDir('acc-scratch-');
      const error = await runSmokeTest({ runner: new LocalHost(w.runner, scratchParent), pot: BUILT, settings: { ...SMOKE_DEFAULTS, url, timeoutSeconds: 1 }, pollInitialMs: 50, pollMaxMs: 200 })
        .then(() => assert.fail('should fail'), (e: unknown) => e);
      assert.ok(error instanceof SmokeTestFailure);
      assert.match(error.message, /\/health did not answer OK within 1s \(last: HTTP 502/);
      assert.ok(error.logs[0]!.lines.includes('cook: nginx failed: [emerg] bind() to 0.0.0.0:80 failed'));
      assert.match(error.logs[1]!.lines[0]!, /could not read \/var\/log\/matrix-synapse\/homeserver\.log/);
      assert.deepEqual(readdirSync(join(w.root, 'jails')), [BUILT]);
      assert.deepEqual(readdirSync(scratchParent), []);
    } finally {
      w.restore();
    }
  });

  it('notices at once when the jail command dies', async () => {
    const w = standInWorld();
    process.env.POT_STANDIN_START_EXIT = '1';
    try {
      const server = new SynapseStandIn({ health: 'down' }, w.cloneEnv);
      servers.push(server);
      const url = await server.start();
      const t0 = Date.now();
      const error = await runSmokeTest({ runner: new LocalHost(w.runner, tempDir()), pot: BUILT, settings: { ...SMOKE_DEFAULTS, url, timeoutSeconds: 60 }, pollInitialMs: 50, pollMaxMs: 200 })
        .then(() => assert.fail('should fail'), (e: unknown) => e);
      assert.ok(error instanceof SmokeTestFailure);
      assert.match(error.message, /cook exited with an error \(pot start returned 125\)/);
      assert.ok(Date.now() - t0 < 20_000);
      assert.deepEqual(readdirSync(join(w.root, 'jails')), [BUILT]);
    } finally {
      delete process.env.POT_STANDIN_START_EXIT;
      w.restore();
    }
  });
});
