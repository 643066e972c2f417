// The SSH host against a real sshd on 127.0.0.1, where a defect would hurt an
// admin: a remote command's own exit status 255 (an `ssh` run on the builder,
// refused as the smoke test wants it) is not a lost connection; no secret-named
// variable of this machine reaches the builder even when ssh_config sends every
// variable and sshd accepts them; a remote end that stops reading a stream is
// an error naming the builder, not a crash; a first connection to an unknown
// host says how to add its key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { checkPasswordRefused } from '../../pipeline/acceptance/ssh-checks.js';
import { OWN_255, SshHost, connectFailure, ownExit255 } from '../../pipeline/builder/ssh-host.js';
import { parseBuilder } from '../../pipeline/builder/ssh-target.js';
import { UserError } from '../../pipeline/errors.js';
import { ExecaRunner } from '../../pipeline/runner/execa-runner.js';
import { secretEnvNames } from '../../pipeline/runner/secrets.js';
import { sshdMissing, startSshd } from '../helpers/sshd.js';

const skip = sshdMissing();

test('ownExit255 reads the wrapper\'s last line only', () => {
  assert.deepEqual(ownExit255(`Permission denied (publickey).\n${OWN_255}\n`), { own: true, stderr: 'Permission denied (publickey).' });
  assert.deepEqual(ownExit255('Connection closed by remote host\n'), { own: false, stderr: 'Connection closed by remote host\n' });
  assert.equal(ownExit255(`${OWN_255}\nmore after it\n`).own, false, 'the marker counts only as the last line');
});

test('secret-named variables are dropped, the agent socket is kept', () => {
  const names = secretEnvNames({ POT_IMAGE_KEY_PASSPHRASE: 'x', POT_IMAGE_REPO_PASSWORD: 'y', GITHUB_TOKEN: 'z', SSH_AUTH_SOCK: '/tmp/agent', HOME: '/root' });
  assert.deepEqual(names.sort(), ['GITHUB_TOKEN', 'POT_IMAGE_KEY_PASSPHRASE', 'POT_IMAGE_REPO_PASSWORD']);
});

test('a first connection to a host not in known_hosts says how to add and check its key', () => {
  const line = connectFailure('root@b.example.org:2222', 'No ED25519 host key is known for [b.example.org]:2222 and you have requested strict checking.\nHost key verification failed.\n');
  assert.match(line, /^the builder root@b\.example\.org:2222 is not in known_hosts yet .*ssh-keyscan -p 2222 b\.example\.org, compare the fingerprint/);
  assert.ok(!line.includes('\n'));
  assert.match(connectFailure('root@b:22', '@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @\nHost key verification failed.\n'), /its host key is not the one in known_hosts/);
});

test('over SSH: exit 255 of the command itself, secrets kept home, a remote end that stops reading', { skip }, async () => {
  // sshd accepts every variable and the client config sends every variable: the worst an admin's config can do.
  const sshd = await startSshd({ PATH: '/usr/bin:/bin' }, '*');
  const config = join(sshd.dir, 'ssh_config_sendall');
  writeFileSync(config, `Include ${sshd.clientConfig}\n`);
  appendFileSync(config, 'Host *\n  SendEnv *\n');
  const secrets = { POT_IMAGE_KEY_PASSPHRASE: 'pp-never-on-the-builder-7c1', POT_IMAGE_REPO_PASSWORD: 'repo-never-on-the-builder-9d2' };
  const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));
  Object.assign(process.env, secrets);
  const host = new SshHost({ target: parseBuilder(sshd.url)!, runner: new ExecaRunner(), configFile: config });
  try {
    await host.connect();
    // 1. The command's own 255 (the smoke test's `ssh` to a control user without a key): a result, not a lost builder.
    const own = await host.run('sh', ['-c', 'echo refused >&2; exit 255'], { allowFailure: true });
    assert.equal(own.exitCode, 255);
    assert.equal(own.stderr.trim(), 'refused');
    await assert.rejects(host.run('sh', ['-c', 'echo refused >&2; exit 255']), (e: unknown) =>
      e instanceof UserError && /exited 255 \(refused\)/.test(e.message) && !/lost the connection/.test(e.message));
    // The connection is still there afterwards.
    assert.equal((await host.run('echo', ['still here'])).stdout.trim(), 'still here');
    // The smoke test's own check, run on the builder through this host: a real ssh there, refused by a
    // real sshd (publickey only), exits 255, and the check passes instead of "lost the connection".
    const refused = await checkPasswordRefused(host, '127.0.0.1', String(sshd.port), 15_000);
    assert.equal(refused, 'sshd offers only publickey; password and keyboard-interactive refused');

    // 2. Secrets: neither a command nor a stream brings them to the builder.
    await host.openRead('/etc/hostname').then(async (f) => { for await (const _ of f.stream) { /* drain */ } }).catch(() => undefined);
    const env = (await host.run('env', [])).stdout;
    const record = sshd.record().toString('utf8') + env;
    for (const value of Object.values(secrets)) assert.ok(!record.includes(value), `${value} reached the builder`);
    assert.match(record, /SSH_RECORD=/, 'the record holds the sessions');

    // 3. A remote end that stops reading while we send: one line naming the builder, no EPIPE crash.
    const endless = Readable.from((function* () { for (let i = 0; i < 4096; i++) yield Buffer.alloc(64 * 1024, 1); })());
    await assert.rejects(host.writeFolder('/nonexistent/folder', endless, 'a tar that cannot unpack'), (e: unknown) =>
      e instanceof UserError && /tar -xpf - -C \/nonexistent\/folder/.test(e.message) && !e.message.includes('\n'));
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    await host.close();
  }
});
