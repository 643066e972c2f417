import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { SMOKE_DEFAULTS, type SmokeSettings } from '../../pipeline/acceptance/settings.js';
import { SmokeTestFailure, runSmokeTest, startEnded, type SmokeTestOptions } from '../../pipeline/acceptance/smoke-test.js';
import { registrationMac } from '../../pipeline/acceptance/synapse-checks.js';
import { InterruptibleHost } from '../../pipeline/builder/interruptible-host.js';
import { LocalHost } from '../../pipeline/builder/local-host.js';
import { PlanBook, PlanHost } from '../../pipeline/builder/plan-host.js';
import { tempDir } from '../helpers/tmp.js';
import { FakeRunner, type FakeRunnerOptions } from './fake-runner.js';
import { SynapseStandIn, type Faults } from './synapse-stand-in.js';

const BUILT = 'matrix-synapse-nomad-amd64-13_0';

interface Setup {
  runner: FakeRunner;
  host: LocalHost;
  server: SynapseStandIn;
  scratchParent: string;
  run: (overrides?: Partial<SmokeTestOptions>) => Promise<Awaited<ReturnType<typeof runSmokeTest>>>;
  notes: string[];
  progress: string[];
}

const servers: SynapseStandIn[] = [];
after(async () => { for (const s of servers) await s.stop(); });

async function setup(faults: Faults = {}, runnerOptions: Partial<FakeRunnerOptions> = {}, settings: Partial<SmokeSettings> = {}): Promise<Setup> {
  const server = new SynapseStandIn(faults);
  servers.push(server);
  const url = await server.start();
  const fsRoot = tempDir('acc-fsroot-');
  const scratchParent = tempDir('acc-scratch-');
  const runner = new FakeRunner({
    pots: [BUILT],
    fsRoot,
    onStart: (_pot, env) => server.boot(env),
    cookLog: 'cook: rendering homeserver.yaml\ncook: starting synapse\ncook: synapse failed to start\n',
    synapseLog: 'synapse: Starting server\nsynapse: sqlite3.OperationalError: unable to open database file\n',
    exec: (_pot, command) => {
      if (command[0] === '/usr/local/bin/register_new_matrix_user') {
        server.registerDirect(command[command.indexOf('-u') + 1]!, command[command.indexOf('-p') + 1]!);
        return { exitCode: 0, stdout: 'Success!\n' };
      }
      return { exitCode: 127, stderr: 'not found' };
    },
    ...runnerOptions,
  });
  const notes: string[] = [];
  const progress: string[] = [];
  const host = new LocalHost(runner, scratchParent);
  // This machine, where the HTTP checks run: record each check's line.
  const here = new LocalHost(runner);
  here.inProcess = async (line, work) => { notes.push(line); return work(); };
  const run = (overrides: Partial<SmokeTestOptions> = {}) => runSmokeTest({
    runner: host,
    here,
    pot: BUILT,
    settings: { ...SMOKE_DEFAULTS, url, timeoutSeconds: 5, ...settings },
    progress: (l) => progress.push(l),
    pollInitialMs: 20,
    pollMaxMs: 100,
    stopGraceMs: 2000,
    ...overrides,
  });
  return { runner, host, server, scratchParent, run, notes, progress };
}

/** The clone was stopped and destroyed, and no scratch folder is left. */
function assertCleanedUp(s: Setup): void {
  const clones = [...s.runner.pots].filter((p) => p !== BUILT);
  assert.deepEqual(clones, [], 'no smoke-test pot is left');
  assert.deepEqual(s.runner.running.size, 0, 'nothing runs');
  assert.deepEqual(readdirSync(s.scratchParent), [], 'the scratch folder is removed');
  assert.ok(s.runner.pots.has(BUILT), 'the built pot is untouched');
  assert.ok(!s.runner.potVerbs().includes('start') || s.runner.potVerbs().includes('stop'), 'a started clone is stopped');
}

async function failureOf(p: Promise<unknown>): Promise<SmokeTestFailure> {
  try {
    await p;
  } catch (error) {
    assert.ok(error instanceof SmokeTestFailure, `expected SmokeTestFailure, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), 'the error is one line');
    return error;
  }
  assert.fail('the smoke test passed but should have failed');
}

describe('smoke test', () => {
  it('passes against a healthy jail, prepared as pot prepare and the Nomad driver do, and cleans up', async () => {
    const s = await setup({ healthyAfter: 2 });
    const result = await s.run();
    assert.deepEqual(result.checks.map((c) => c.check), ['health', 'client versions', 'well-known server', 'well-known client', 'shared-secret registration', 'login', 'control user key login', 'control user password login refused']);
    assert.ok(result.checks.every((c) => c.ok));
    // pot prepare (share/pot/prepare.sh): clone, set-cmd, six attributes; the driver: copy-in, mount-in ×3, set-env, start.
    assert.deepEqual(s.runner.potVerbs(), ['clone', 'set-cmd', 'set-attribute', 'set-attribute', 'set-attribute', 'set-attribute', 'set-attribute', 'set-attribute',
      'copy-in', 'mount-in', 'mount-in', 'mount-in', 'info', 'set-env', 'start', 'stop', 'destroy']);
    const clone = s.runner.calls.find((c) => c.command === 'pot')!.args;
    assert.deepEqual(clone.slice(0, 3), ['clone', '-P', BUILT], 'cloned from the built pot');
    assert.match(result.clone, new RegExp(`^${BUILT}-smoke-[0-9a-f]{6}$`));
    const attrs = s.runner.calls.filter((c) => c.args[0] === 'set-attribute').map((c) => c.args.slice(-4).join(' '));
    assert.deepEqual(attrs, ['-A persistent -V OFF', '-A no-rc-script -V ON', '-A prunable -V ON', '-A localhost-tunnel -V YES', '-A no-etc-hosts -V YES', '-A no-tmpfs -V YES']);
    // The driver quotes the command; pot's set-cmd strips the quotes again.
    assert.ok(s.runner.calls.some((c) => c.args[0] === 'set-cmd' && c.args.includes('"/usr/local/bin/cook"')));
    const mounts = s.runner.calls.filter((c) => c.args[0] === 'mount-in').map((c) => c.args[c.args.indexOf('-m') + 1]);
    assert.deepEqual(mounts, ['/local', '/secrets', '/mnt']);
    // The control user's throwaway key is what the job's copy puts at /root/importauthkey.
    const copied = [...s.runner.copied.values()][0]!;
    assert.deepEqual(copied.map((c) => c.destination), ['/root/importauthkey']);
    assert.match(copied[0]!.text, /^ssh-ed25519 /);
    // Plain parameters through set-env, the secret only through /secrets/matrix-synapse.env.
    const setEnv = s.runner.calls.find((c) => c.args[0] === 'set-env')!;
    const env = Object.fromEntries(setEnv.args.filter((_, i) => setEnv.args[i - 1] === '-E').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    assert.equal(env.NOSSL, 'true');
    assert.equal(env.CONTROLUSER, 'true');
    assert.equal(env.DOMAIN, SMOKE_DEFAULTS.domain);
    assert.equal(env.MYSHAREDSECRET, undefined, 'the secret never goes through set-env');
    assert.ok(!Object.keys(env).some((k) => k.startsWith('SMTP') || k.startsWith('LDAP')));
    // The jail "booted" with the secret from the file, and registration with it worked.
    assert.equal(s.server.users.size, 1);
    // SSH: the key logs in as control; a password-only attempt sees publickey only.
    const ssh = s.runner.calls.filter((c) => c.command === 'ssh').map((c) => c.args);
    assert.equal(ssh.length, 2);
    assert.ok(ssh[0]!.includes('-i') && ssh[0]!.some((a) => a.startsWith('control@')));
    assert.ok(ssh[1]!.includes('PubkeyAuthentication=no'));
    assert.ok(s.server.requests.length >= 7);
    assert.ok(s.server.requests.every((r) => r.host === SMOKE_DEFAULTS.domain));
    assertCleanedUp(s);
  });

  it('fails when sshd offers a password to the control user', async () => {
    const s = await setup({}, { ssh: (args) => (args.includes('-i') ? { exitCode: 0, stdout: 'control\n' } : { exitCode: 255, stderr: 'control@10.192.0.3: Permission denied (publickey,password,keyboard-interactive).\n' }) });
    const f = await failureOf(s.run());
    assert.match(f.message, /control user password login refused: sshd offers password and keyboard-interactive to control; it must offer publickey only/);
    assertCleanedUp(s);
  });

  it('fails when the key copied in does not log in', async () => {
    const s = await setup({}, { ssh: () => ({ exitCode: 255, stderr: 'control@10.192.0.3: Permission denied (publickey).\n' }) });
    const f = await failureOf(s.run());
    assert.match(f.message, /control user key login: ssh control@.* with the key copied to \/root\/importauthkey failed: control@10\.192\.0\.3: Permission denied \(publickey\)\./);
    assertCleanedUp(s);
  });

  it('registers from inside the jail when nginx does not route the admin API', async () => {
    const s = await setup({ register: 'not-routed' });
    const result = await s.run();
    assert.ok(result.checks.every((c) => c.ok));
    const exec = s.runner.calls.find((c) => c.args[0] === 'exec')!;
    assert.ok(exec.args.includes('/usr/local/bin/register_new_matrix_user'));
    assert.ok(exec.args.includes('--no-admin'));
    const password = exec.args[exec.args.indexOf('-p', 3) + 1]!;
    assert.ok(exec.options.secrets?.includes(password), 'the password is redacted from logs');
    assertCleanedUp(s);
  });

  const failures: { name: string; faults: Faults; expect: RegExp }[] = [
    { name: 'health not OK', faults: { health: 'fail' }, expect: /\/health did not answer OK within 1s \(last: HTTP 200 'FAIL'\)/ },
    { name: 'versions not JSON', faults: { versions: 'html' }, expect: /client versions: \/_matrix\/client\/versions did not answer a JSON object/ },
    { name: 'well-known server names another domain', faults: { wellKnownServer: 'wrong-domain' }, expect: /well-known server: .*m\.server "matrix\.other\.example:443", expected "smoke-test\.example\.com:PORT"/ },
    { name: 'well-known without CORS', faults: { wellKnownServer: 'no-cors' }, expect: /Access-Control-Allow-Origin/ },
    { name: 'well-known client points elsewhere', faults: { wellKnownClient: 'wrong-base' }, expect: /well-known client: .*"http:\/\/localhost:8008", expected "https:\/\/smoke-test\.example\.com"/ },
    { name: 'registration refused (HMAC)', faults: { register: 'wrong-secret' }, expect: /shared-secret registration: POST \/_synapse\/admin\/v1\/register answered HTTP 403 \(M_FORBIDDEN: HMAC incorrect\)/ },
    { name: 'login refused', faults: { login: 'forbidden' }, expect: /login: POST \/_matrix\/client\/v3\/login answered HTTP 403 \(M_FORBIDDEN: Invalid username or password\)/ },
  ];
  for (const f of failures) {
    it(`fails when ${f.name}, shows the logs, and cleans up`, async () => {
      const s = await setup(f.faults, {}, { timeoutSeconds: 1 });
      const error = await failureOf(s.run());
      assert.match(error.message, f.expect);
      assert.ok(!/^smoke test failed/.test(error.message), 'the build names the step');
      assert.deepEqual(error.logs.map((l) => l.file), ['/var/log/cook.log', '/var/log/matrix-synapse/homeserver.log']);
      assert.ok(error.logs[0]!.lines.includes('cook: synapse failed to start'));
      assert.ok(error.logs[1]!.lines.some((l) => l.includes('unable to open database file')));
      assert.ok(s.progress.includes('--- last lines of /var/log/cook.log in ' + s.runner.calls.find((c) => c.args[0] === 'clone')!.args[4] + ' ---'));
      // Logs are read before the clone is destroyed.
      const verbs = s.runner.calls.map((c) => (c.command === 'pot' ? c.args[0] : c.command));
      assert.ok(verbs.lastIndexOf('tail') < verbs.indexOf('destroy'));
      assertCleanedUp(s);
    });
  }

  it('gives up at the deadline when nginx never answers', async () => {
    const s = await setup({ health: 'hang' }, {}, { timeoutSeconds: 1 });
    const t0 = Date.now();
    const error = await failureOf(s.run());
    const took = Date.now() - t0;
    assert.match(error.message, /\/health did not answer OK within 1s \(last: no answer within/);
    assert.ok(took < 4000, `bounded by the deadline (took ${took} ms)`);
    assertCleanedUp(s);
  });

  it('stops waiting as soon as cook exits', async () => {
    const s = await setup({ health: 'down' }, { startExitCode: 125 }, { timeoutSeconds: 30 });
    const t0 = Date.now();
    const error = await failureOf(s.run());
    assert.match(error.message, /cook exited with an error \(pot start returned 125\)/);
    assert.ok(Date.now() - t0 < 5000, 'did not wait for the 30 s deadline');
    assertCleanedUp(s);
  });

  it('cleans up when the clone cannot be configured, and says what failed', async () => {
    const s = await setup({}, { failing: ['mount-in'] });
    const error = await failureOf(s.run());
    assert.match(error.message, /could not mount the task's local\/ at \/local/);
    assert.ok(!s.runner.potVerbs().includes('start'));
    assert.ok(s.runner.potVerbs().includes('destroy'));
    assertCleanedUp(s);
  });

  it('still stops and destroys the clone after Ctrl-C, when the build runner refuses new commands', async () => {
    const s = await setup({ health: 'down' }, {}, { timeoutSeconds: 30 });
    const interruptible = new InterruptibleHost(s.host);
    const t0 = Date.now();
    const running = s.run({ runner: interruptible });
    // Interrupt once the clone has started, as a user pressing Ctrl-C would.
    while (!s.runner.potVerbs().includes('start')) await new Promise((r) => setImmediate(r));
    interruptible.interrupt('SIGINT');
    s.runner.stopAll();
    const error = await failureOf(running);
    assert.match(error.message, /cook exited|interrupted/);
    assert.ok(Date.now() - t0 < 10_000);
    assert.ok(s.runner.potVerbs().includes('destroy'));
    assertCleanedUp(s);
  });

  it('destroys nothing when the clone itself fails', async () => {
    const s = await setup({}, { failing: ['clone'] });
    const error = await failureOf(s.run());
    assert.match(error.message, /could not clone/);
    assert.deepEqual(s.runner.potVerbs(), ['clone']);
    assertCleanedUp(s);
  });

  it('reports a clone it could not destroy', async () => {
    const s = await setup({}, { failing: ['destroy'] });
    const error = await failureOf(s.run());
    assert.match(error.message, /the checks passed, but the clean-up failed: could not destroy the smoke-test pot .*pot destroy -F -p/);
    assert.deepEqual(readdirSync(s.scratchParent), []);
  });

  it('uses the jail address from pot info when no URL is configured', async () => {
    const s = await setup({}, { ip: '10.192.0.9' }, { url: undefined, timeoutSeconds: 1 });
    const error = await failureOf(s.run());
    // Nothing listens there in the test: the point is where it looked.
    assert.match(error.message, /health/);
    assert.ok(s.notes.some((n) => n.includes('http://10.192.0.9/health')));
    const setEnv = s.runner.calls.find((c) => c.args[0] === 'set-env')!;
    assert.ok(setEnv.args.includes('IP=10.192.0.9'));
  });

  it('plans the smoke test in a dry run without creating anything', async () => {
    const plan = new PlanHost(new PlanBook());
    const result = await runSmokeTest({ runner: plan, here: plan, pot: BUILT, settings: SMOKE_DEFAULTS });
    assert.deepEqual(result.checks, []);
    const text = plan.lines.join('\n');
    for (const expected of [`pot clone -P ${BUILT} -p ${result.clone}`, 'pot mount-in', 'pot set-env', 'secrets/matrix-synapse.env', `pot start -p ${result.clone}`, "curl -fsS -H 'Host: smoke-test.example.com' http://<jail ip>/health", '/_synapse/admin/v1/register', '/_matrix/client/v3/login', `pot stop -p ${result.clone}`, `pot destroy -F -p ${result.clone}`, 'rm -rf']) {
      assert.ok(text.includes(expected), `plan mentions ${expected}\n${text}`);
    }
    assert.ok(!existsSync('/tmp/pot-image-smoke-XXXXXX'));
  });

  it('computes the registration MAC as Synapse does', () => {
    // HMAC-SHA1 over "abc\0alice\0pw\0notadmin" with key "secret", computed independently with openssl dgst -sha1 -hmac.
    assert.equal(registrationMac('secret', 'abc', 'alice', 'pw'), '42e32623fe124933c326f9d2d67ff7c617915a10');
    assert.equal(registrationMac('secret', 'abc', 'alice', 'pw', true), 'dc5ed98b283077684552e3f72d67f26b3366bf58');
  });
});

describe('what pot start returning means (start.sh exit codes)', () => {
  const r = (exitCode: number, stdout = '', stderr = '') => ({ command: 'pot', args: ['start'], exitCode, stdout, stderr, durationMs: 1 });
  it('125: the command failed; 0: it exited; anything else: pot could not start the jail', () => {
    assert.equal(startEnded(r(125)), 'cook exited with an error (pot start returned 125)');
    assert.equal(startEnded(r(0)), 'cook exited (pot start returned 0)');
    assert.equal(startEnded(r(1, "###>  This kernel doesn't support VIMAGE! No vnet possible - abort\n")), "pot start failed, cook never ran (pot start returned 1: This kernel doesn't support VIMAGE! No vnet possible - abort)");
  });
});
