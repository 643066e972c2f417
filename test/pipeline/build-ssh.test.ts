// The build driving a "FreeBSD builder" over SSH: a real OpenSSH server (Debian's
// sshd) on 127.0.0.1 with a throwaway host key and user key, the pot/pkg
// stand-ins on the remote side's PATH. Same artifacts as a local build, the
// signing key never crosses, and the faults happen for real: a dropped
// connection (sshd's session processes SIGKILLed), Ctrl-C, a builder gone
// mid-build (its leftovers named by the next preflight), a wrong host key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createServer } from 'node:http';
import { SshHost } from '../../pipeline/builder/ssh-host.js';
import { parseBuilder } from '../../pipeline/builder/ssh-target.js';
import { ExecaRunner } from '../../pipeline/runner/execa-runner.js';
import { runCli } from '../helpers/cli.js';
import { sshdMissing, startSshd, type Sshd } from '../helpers/sshd.js';
import { tempDir } from '../helpers/tmp.js';
import { POT_NAME, STAND_INS, TAG, artifactNames, sandbox, waitForLine, type Sandbox } from './builder-sandbox.js';

const skip = sshdMissing();
const oneLineError = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('pot-image: '));

interface Remote {
  s: Sandbox;
  sshd: Sshd;
  /** The builder's $TMPDIR (where its temporary folders go). */
  builderTmp: string;
  /** This machine's $TMPDIR for the build. */
  localTmp: string;
  build(args?: string[], env?: Record<string, string>, options?: Parameters<Sandbox['build']>[2]): ReturnType<Sandbox['build']>;
}

async function remote(port?: number): Promise<Remote> {
  const s = sandbox();
  const builderTmp = join(s.dir, 'builder-tmp');
  const localTmp = join(s.dir, 'local-tmp');
  mkdirSync(builderTmp);
  mkdirSync(localTmp);
  const sshd = await startSshd({
    // The builder's / (MANIFESTS, pot's cache) and its mirror, as the stand-ins there read them.
    ...s.host.env,
    PATH: `${join(STAND_INS, 'builder')}:${STAND_INS}:${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`,
    POT_STANDIN_ROOT: s.potRoot,
    POT_STANDIN_LOG: s.potLog,
    POT_STANDIN_FLAVOURS_DIR: s.installDir,
    TMPDIR: builderTmp,
  }, undefined, port);
  return {
    s, sshd, builderTmp, localTmp,
    // This machine has no pot: the stand-ins are on the builder's PATH only.
    build: (args = [], env = {}, options = {}) => s.build(['--builder', sshd.url, ...args], env, {
      ...options,
      env: { PATH: process.env.PATH ?? '', TMPDIR: localTmp, POT_IMAGE_SSH_CONFIG: sshd.clientConfig, ...options.env },
    }),
  };
}

function keyPair(dir: string, passphrase: string): { pub: string; sec: string } {
  const pub = join(dir, 'image.pub');
  const sec = join(dir, 'image.sec');
  const r = spawnSync('signify-openbsd', ['-G', '-p', pub, '-s', sec], { input: `${passphrase}\n` });
  assert.equal(r.status, 0, String(r.stderr));
  return { pub, sec };
}

/** Processes (not zombies) whose environment names this sandbox's pot log: what still runs "on the builder". */
function runningFor(s: Sandbox): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) continue;
      if (readFileSync(`/proc/${pid}/environ`).includes(`POT_STANDIN_LOG=${s.potLog}\0`)) out.push(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test('over SSH: the same artifacts as a local build, signed here, the key and its passphrase never sent to the builder', { skip }, async () => {
  const local = sandbox();
  const l = await local.build();
  assert.equal(l.code, 0, l.stderr);

  const r = await remote();
  const passphrase = 'correct horse battery staple 4711';
  const key = keyPair(tempDir(), passphrase);
  const b = await r.build(['--secret-key', key.sec, '--public-key', key.pub, '--json', '--require-signature'], { POT_IMAGE_KEY_PASSPHRASE: passphrase });
  assert.equal(b.code, 0, b.stderr);
  for (const name of artifactNames()) {
    assert.ok(readFileSync(join(r.s.output, name)).equals(readFileSync(join(local.output, name))), `${name} byte-identical to the local build`);
  }
  assert.ok(existsSync(join(r.s.output, `${POT_NAME}_${TAG}.xz.skein.sig`)), 'signed on this machine');
  const summary = JSON.parse(b.stdout) as { signature: { signed: boolean } };
  assert.equal(summary.signature.signed, true);

  // Everything that reached the builder: commands, environments, stdin (the tar stream included).
  const sent = r.sshd.record();
  assert.ok(sent.includes(`pot create -p ${POT_NAME}`), 'the record holds the builder commands');
  assert.ok(sent.includes('matrix-synapse-nomad.d/cook'), 'and the staged tar stream');
  const secretKeyLine = readFileSync(key.sec, 'utf8').trim().split('\n')[1]!;
  for (const secret of [passphrase, secretKeyLine, Buffer.from(secretKeyLine, 'base64').subarray(8, 40).toString('latin1')]) {
    assert.ok(!sent.includes(secret), 'no secret crossed the connection');
  }
  assert.ok(!sent.includes('POT_IMAGE_KEY_PASSPHRASE'), 'not even the passphrase variable');

  // Nothing left: no pot, no temporary folder on either side, nothing running.
  assert.deepEqual(r.s.pots(), []);
  assert.deepEqual(readdirSync(r.builderTmp).filter((n) => n.startsWith('pot-image')), [], 'the staging folder on the builder was removed');
  assert.deepEqual(readdirSync(r.localTmp).filter((n) => n.startsWith('pot-image')), []);
  assert.deepEqual(runningFor(r.s), []);
  const log = readFileSync(join(r.s.output, `${POT_NAME}_${TAG}.build.log`), 'utf8');
  assert.match(log, new RegExp(`\\$ \\[root@127\\.0\\.0\\.1:${r.sshd.port}\\] pot create -p `), 'the log names the host of each command');
});

test('over SSH: a host key that is not the known one is refused before anything runs', { skip }, async () => {
  const r = await remote();
  const res = await r.build([], {}, { env: { POT_IMAGE_SSH_CONFIG: r.sshd.wrongHostConfig() } });
  assert.equal(res.code, 1, res.stderr);
  assert.match(oneLineError(res.stderr)[0]!, new RegExp(`refused the builder root@127\\.0\\.0\\.1:${r.sshd.port}: its host key is not the one in known_hosts`));
  assert.deepEqual(r.s.calls(), [], 'not one command reached the builder');
  assert.equal(r.sshd.record().length, 0, 'no session was opened');
});

test('over SSH: Ctrl-C stops the remote command itself (its process group on the builder), then cleans up there', { skip }, async () => {
  const r = await remote();
  const res = await r.build([], { POT_STANDIN_HANG: 'create' }, {
    onSpawn: (child) => {
      waitForLine(r.s.potLog, /hanging in create/).then(() => child.kill('SIGINT'), () => child.kill('SIGKILL'));
    },
  });
  assert.equal(res.code, 130, res.stderr);
  assert.match(oneLineError(res.stderr)[0]!, /^pot-image: build interrupted by SIGINT during create; the build pot was destroyed/);
  assert.ok(r.s.calls().includes(`pot destroy -F -p ${POT_NAME}`), 'the cleanup destroyed the pot on the builder');
  assert.deepEqual(r.s.pots(), []);
  assert.deepEqual(readdirSync(r.builderTmp).filter((n) => n.startsWith('pot-image')), [], 'the staging folder on the builder was removed');
  assert.deepEqual(runningFor(r.s), [], 'the hanging pot create on the builder was stopped, not just the local ssh');
  assert.deepEqual(r.s.outputFiles(), [`${POT_NAME}_${TAG}.build.log`]);
});

test('over SSH: a dropped connection fails the build naming the host and step; the cleanup reconnects and removes the pot and the staging folder', { skip }, async () => {
  const r = await remote();
  const res = await r.build([], { POT_STANDIN_HANG: 'export' }, {
    onSpawn: () => {
      waitForLine(r.s.potLog, /hanging in export/).then(() => {
        for (const pid of r.sshd.sessions()) process.kill(pid, 'SIGKILL'); // the connection drops, the listener stays
      }, () => undefined);
    },
  });
  assert.equal(res.code, 1, res.stderr);
  assert.match(oneLineError(res.stderr)[0]!, new RegExp(`^pot-image: export failed: lost the connection to the builder root@127\\.0\\.0\\.1:${r.sshd.port} during 'pot export `));
  assert.deepEqual(runningFor(r.s), [], 'the hanging export on the builder was stopped when its connection went');
  assert.deepEqual(r.s.pots(), [], 'the cleanup destroyed the pot over a new connection');
  assert.deepEqual(readdirSync(r.builderTmp).filter((n) => n.startsWith('pot-image')), []);
  assert.deepEqual(r.s.outputFiles(), [`${POT_NAME}_${TAG}.build.log`]);
});

test('over SSH: a builder gone mid-build (sshd stopped) leaves its pot and staging folder; the next build\'s preflight names both', { skip }, async () => {
  const r = await remote();
  const res = await r.build([], { POT_STANDIN_HANG: 'snapshot' }, {
    onSpawn: () => { waitForLine(r.s.potLog, /hanging in snapshot/).then(() => r.sshd.stop(), () => undefined); },
  });
  assert.equal(res.code, 1, res.stderr);
  assert.match(oneLineError(res.stderr)[0]!, /^pot-image: snapshot failed: lost the connection to the builder /);
  assert.match(res.stderr, /warning: .*remove what is left by hand on root@127\.0\.0\.1:\d+: pot destroy -F -p matrix-synapse-nomad-amd64-14_5; rm -rf \S+pot-image\.matrix-synapse-nomad-amd64-14_5\.\w+/);
  assert.deepEqual(r.s.pots(), [POT_NAME], 'the pot is still there');

  // The builder is back (same address, same host key): preflight names what is left before building anything.
  const back = await startSshd(r.sshd.env, undefined, r.sshd.port, r.sshd.dir);
  const before = r.s.calls().length;
  const again = await r.build([], {}, { env: { POT_IMAGE_SSH_CONFIG: back.clientConfig } });
  assert.equal(again.code, 1, again.stderr);
  const line = oneLineError(again.stderr)[0]!;
  assert.match(line, new RegExp(`preflight failed: 2 problems on the builder root@127\\.0\\.0\\.1:${r.sshd.port}: `));
  assert.match(line, new RegExp(`a pot named ${POT_NAME} is left over from an earlier build on root@127\\.0\\.0\\.1:\\d+: pot destroy -F -p ${POT_NAME}`));
  assert.match(line, /temporary folder \S+\/builder-tmp\/pot-image\.matrix-synapse-nomad-amd64-14_5\.\w+ left over from an earlier build on \S+: rm -rf /);
  assert.ok(!r.s.calls().slice(before).some((l) => l.startsWith('pot create')), 'nothing was built');
});

test('over SSH: the smoke test reaches the clone from the builder\'s side, through a port forwarded over the connection', { skip }, async () => {
  // A web server only "the builder" can see (127.0.0.1 of the builder; here the same machine).
  const server = createServer((_req, res) => res.end('jail nginx says hi'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const r = await remote();
  const host = new SshHost({ target: parseBuilder(r.sshd.url)!, runner: new ExecaRunner(), configFile: r.sshd.clientConfig });
  try {
    await host.connect();
    const base = await host.reach('127.0.0.1', port);
    assert.notEqual(new URL(base).port, String(port), 'a forwarded local port, not the jail address');
    assert.equal(await (await fetch(`${base}/health`)).text(), 'jail nginx says hi');
  } finally {
    await host.close();
    server.close();
  }
});

test('the plan of a remote build differs from a local one only in where the builder operations run', async () => {
  const args = ['--flavour-dir', join(STAND_INS, '..', 'fixtures', 'flavours'), '--release', '15.1'];
  const [localPlan, remotePlan] = await Promise.all([runCli(['plan', ...args]), runCli(['plan', ...args, '--builder', 'ssh://root@builder.example.org:2222'])]);
  assert.equal(remotePlan.code, 0, remotePlan.stderr);
  const stable = (t: string) => t.replace(/-smoke-[0-9a-f]+/g, '-smoke-X').replace(/smoke[0-9a-f]{6}\b/g, 'smokeX');
  const remoteLines = stable(remotePlan.stdout).split('\n');
  const onBuilder = remoteLines.filter((l) => l.startsWith('[root@builder.example.org:2222] '));
  assert.ok(onBuilder.some((l) => / pot create -p /.test(l)) && onBuilder.some((l) => / tar -xpf - -C /.test(l)), 'pot and staging run on the builder');
  assert.ok(remoteLines.some((l) => /^pot-image verify --public-url /.test(l)) && !remoteLines.some((l) => /^\[.*pot-image (sign|verify|publish)/.test(l)), 'signing, publishing and verifying run here');
  // Each step's heading says where it would run (the builder over SSH, or this host): that is the difference.
  const headings = remoteLines.filter((l) => l.startsWith('# step '));
  assert.ok(headings.some((l) => / -- would be run on the builder root@builder\.example\.org:2222 over SSH$/.test(l)));
  // The smoke test's HTTP checks reach the remote jail through a port forwarded over the connection.
  assert.ok(remoteLines.includes('ssh -O forward -L 127.0.0.1:<free port>:<jail ip>:80 root@builder.example.org:2222'));
  const unplaced = (lines: string[]) => lines.filter((l) => !l.startsWith('ssh -O forward ') && !l.startsWith('# end of plan: '))
    .map((l) => l.replace(/^(# step \d+: .*?) -- would be (?!skipped).*$/, '$1').replaceAll('http://127.0.0.1:<free port>', 'http://<jail ip>')).join('\n');
  assert.equal(unplaced(remoteLines.map((l) => l.replace(/^\[root@builder\.example\.org:2222\] /, ''))), unplaced(stable(localPlan.stdout).split('\n')));
});

test('--builder must be ssh://[user@]host[:port]: anything else is bad input (exit 2), named', async () => {
  for (const [value, why] of [['root@host', 'is not an SSH builder address'], ['ssh://-oProxyCommand=x', 'invalid host name'], ['ssh://root@host:99999', 'invalid port'], ['ssh://ro ot@host', 'invalid user name']] as const) {
    const r = await runCli(['plan', '--builder', value]);
    assert.equal(r.code, 2, `${value}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`--builder: '${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' .*${why}.*; use ssh://\\[user@\\]host\\[:port\\] or local`));
  }
});
