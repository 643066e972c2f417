// The smoke test: boot a throwaway clone of the built pot the way Nomad does.
// `pot prepare` (share/pot/prepare.sh, pot 0.16.1) clones, sets the command and
// the attributes persistent=OFF, no-rc-script=ON, prunable=ON, localhost-tunnel,
// no-etc-hosts and no-tmpfs=YES, in that order; nomad-pot-driver (driver/prepare.go,
// v0.10.0) then copies files in, mounts the task's local/ and secrets/ folders at
// /local and /secrets and the job's mounts, sets the env and starts the pot. The
// parameters reach cook as the shipped job passes them: plain ones through set-env,
// secrets through /secrets/matrix-synapse.env; CONTROLUSER=true with a throwaway
// key, then the HTTP checks and the SSH checks. Always cleans up; the built pot
// itself is never started, so the image is never "seasoned" by cook.
import { randomBytes } from 'node:crypto';
import { answered, builderTempPrefix, type BuilderHost } from '../builder/host.js';
import { LocalHost } from '../builder/local-host.js';
import { UserError, oneLine } from '../errors.js';
import { failureLine } from '../runner/execa-runner.js';
import { redact } from '../runner/redact.js';
import type { RunResult } from '../runner/types.js';
import { join } from 'node:path';
import { IMAGE_PARAMETERS, neededSecrets } from '../nomad/parameters.js';
import { CONTROL_KEY_IN_JAIL, PARAMS_FILE_IN_JAIL } from '../nomad/job-spec.js';
import { POT } from '../pot/command.js';
import { DEFAULT_FS_ROOT, configArgs, potRoot } from '../pot/config.js';
import { cloneArgs } from '../pot/clone.js';
import { copyInArgs } from '../pot/copy-in.js';
import { destroyArgs } from '../pot/destroy.js';
import { execArgs } from '../pot/exec.js';
import { infoEnvArgs, parsePotIp } from '../pot/info.js';
import { mountInArgs } from '../pot/mount-in.js';
import { setAttributeArgs } from '../pot/set-attribute.js';
import { setCmdArgs } from '../pot/set-cmd.js';
import { setEnvArgs } from '../pot/set-env.js';
import { startArgs } from '../pot/start.js';
import { stopArgs } from '../pot/stop.js';
import { checkKeyLogin, checkPasswordRefused, keygenArgs, sshTarget } from './ssh-checks.js';
import type { SmokeSettings } from './settings.js';
import {
  LOGIN_PATH, REGISTER_PATH, SmokeCheckError, checkLogin, checkVersions, checkWellKnownClient, checkWellKnownServer,
  probeHealth, registerWithSharedSecret, type CheckTarget,
} from './synapse-checks.js';

export const COOK = '/usr/local/bin/cook';
export const COOK_LOG = '/var/log/cook.log';
/** Where the image's log config sends Synapse's log (as potluck's flavour does). */
export const SYNAPSE_LOG = '/var/log/matrix-synapse/homeserver.log';
export const SYNAPSE_CONFIG = '/usr/local/etc/matrix-synapse/homeserver.yaml';

export interface SmokeTestOptions {
  /** The builder: pot commands, the scratch folder (local, plan or SSH). */
  runner: BuilderHost;
  /**
   * Host for stop/destroy/log reading. After Ctrl-C the build's host refuses
   * new operations, but the clone must still go (it also pins the built pot's
   * snapshot). Default: `runner.inner` when the host wraps one, else `runner`.
   */
  cleanupRunner?: BuilderHost;
  /** This machine, where the HTTP checks run as in-process work (the plan records them as curl lines). */
  here?: BuilderHost;
  /** The built (stopped, snapshotted) pot. */
  pot: string;
  settings: SmokeSettings;
  /** Where the database password is read from (settings.postgresql.passwordEnv); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines for the task's output. */
  progress?: (line: string) => void;
  /** Backoff of the /health polling (tests shorten it). */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** How many log lines to show on failure. */
  logLines?: number;
  /** How long to wait for `pot start` to return after `pot stop`. */
  stopGraceMs?: number;
}

export interface SmokeCheckResult { check: string; ok: boolean; detail: string }

export interface SmokeTestResult {
  clone: string;
  baseUrl: string;
  checks: SmokeCheckResult[];
  durationMs: number;
}

/** The smoke test failed; `logs` holds the tails of cook's and Synapse's logs. */
export class SmokeTestFailure extends UserError {
  constructor(message: string, readonly logs: { file: string; lines: string[] }[], readonly checks: SmokeCheckResult[]) {
    super(message);
    this.name = 'SmokeTestFailure';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The parameters cook gets: TLS off, a generated secret, no SMTP, no LDAP, the control user on;
 * sqlite, unless the definition names a PostgreSQL (its password then goes, like every secret,
 * through the parameter file only).
 */
export function smokeEnv(settings: SmokeSettings, secret: string, ip: string | undefined, dbPassword?: string): Record<string, string> {
  const db = settings.postgresql;
  return {
    ...(ip ? { IP: ip } : {}),
    DOMAIN: settings.domain,
    ALERTEMAIL: settings.alertEmail,
    MYSHAREDSECRET: secret,
    ENABLEREGISTRATION: 'false',
    NOSSL: 'true',
    CONTROLUSER: 'true',
    ...(db ? {
      DBHOST: db.host,
      ...(db.port !== undefined ? { DBPORT: String(db.port) } : {}),
      ...(db.name !== undefined ? { DBNAME: db.name } : {}),
      ...(db.user !== undefined ? { DBUSER: db.user } : {}),
      ...(db.sslmode !== undefined ? { DBSSLMODE: db.sslmode } : {}),
      ...(dbPassword !== undefined ? { DBPASSWORD: dbPassword } : {}),
    } : {}),
  };
}

/** The smoke test's database password from the builder's environment, or why there is none. */
export function smokeDbPassword(settings: SmokeSettings, env: NodeJS.ProcessEnv = process.env): { password?: string; missing?: string } {
  const db = settings.postgresql;
  if (!db) return {};
  const password = env[db.passwordEnv];
  if (password) return { password };
  return { missing: `acceptance.smoke_test.postgresql names ${db.host} but ${db.passwordEnv} is not set: export the database password in ${db.passwordEnv} for the build (it never goes into the definition), or remove the postgresql section to smoke-test on sqlite` };
}

/**
 * Split the parameters as the shipped job does (pipeline/nomad/render.ts): secrets go to the
 * template's file, `NAME=value` per line in the template's order; the rest through set-env.
 */
export function jobParameters(params: Record<string, string>): { env: Record<string, string>; secretsFile: string } {
  const secrets = neededSecrets(params);
  const env: Record<string, string> = {};
  for (const p of IMAGE_PARAMETERS) if (params[p.name] !== undefined && !secrets.includes(p.name)) env[p.name] = params[p.name]!;
  const secretsFile = secrets.map((name) => `${name}=${params[name] ?? ''}\n`).join('');
  return { env, secretsFile };
}

/** pot prepare's attributes, in its order, with the values it passes (share/pot/prepare.sh). */
export const PREPARE_ATTRIBUTES: readonly (readonly [string, string])[] = [
  ['persistent', 'OFF'],
  ['no-rc-script', 'ON'],
  ['prunable', 'ON'],
  ['localhost-tunnel', 'YES'],
  ['no-etc-hosts', 'YES'],
  ['no-tmpfs', 'YES'],
];

export async function runSmokeTest(o: SmokeTestOptions): Promise<SmokeTestResult> {
  const started = Date.now();
  const { runner, settings } = o;
  const clone = `${o.pot}-smoke-${randomBytes(3).toString('hex')}`;
  const secret = randomBytes(24).toString('hex');
  const user = `smoke${randomBytes(3).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const db = smokeDbPassword(settings, o.env);
  if (db.missing) throw new UserError(db.missing, 2);
  const secrets = [secret, password, ...(db.password ? [db.password] : [])];
  const progress = o.progress ?? (() => undefined);
  const checks: SmokeCheckResult[] = [];
  const pass = (check: string, detail: string) => { checks.push({ check, ok: true, detail }); progress(`ok   ${check}: ${detail}`); };

  const here = o.here ?? new LocalHost();
  // cook chowns its folders below /mnt to the synapse user, who must be able to enter /mnt.
  const scratch: string | undefined = await runner.makeTempDir(`${builderTempPrefix(o.pot)}smoke-`, 0o755);

  let created = false;
  let startRun: Promise<RunResult> | undefined;
  let startExit: RunResult | undefined;
  let failure: unknown;
  let baseUrl = settings.url ?? 'http://<jail ip>';

  const body = async (): Promise<SmokeTestResult> => {
    // The task folder Nomad would make: local/, secrets/ and the job's data folder, and a throwaway key.
    const local = join(scratch!, 'local');
    const secretsDir = join(scratch!, 'secrets');
    const data = join(scratch!, 'mnt');
    const key = join(scratch!, 'control_key');
    // mkdir -m sets the mode whatever the umask: cook chowns its folders below /mnt to the
    // synapse user, who must be able to enter /mnt; secrets/ is root's alone, as the driver makes it.
    await runner.makeDir(local, 0o755);
    await runner.makeDir(data, 0o755);
    await runner.makeDir(secretsDir, 0o700);
    await runner.run('ssh-keygen', keygenArgs(key), { purpose: 'make a throwaway key for the control user' });

    // pot prepare: clone, command, attributes.
    await runner.run(POT, cloneArgs(o.pot, clone, settings.ip), { purpose: `clone ${o.pot} for the smoke test` });
    created = true;
    // The driver passes the command in double quotes, which pot's set-cmd strips.
    await runner.run(POT, setCmdArgs(clone, `"${COOK}"`), { purpose: 'set cook as the start command' });
    for (const [attr, value] of PREPARE_ATTRIBUTES) {
      await runner.run(POT, setAttributeArgs(clone, attr, value), { purpose: `set ${attr} as pot prepare does` });
    }
    // The driver: copy-in, mount-in (local/, secrets/, the job's mount), set-env, start.
    await runner.run(POT, copyInArgs(clone, `${key}.pub`, CONTROL_KEY_IN_JAIL), { purpose: "copy the control user's key in" });
    await runner.run(POT, mountInArgs(clone, local, '/local'), { purpose: "mount the task's local/ at /local" });
    await runner.run(POT, mountInArgs(clone, secretsDir, '/secrets'), { purpose: "mount the task's secrets/ at /secrets" });
    await runner.run(POT, mountInArgs(clone, data, '/mnt'), { purpose: 'mount the data folder at /mnt' });

    let ip = settings.ip;
    let urlIp = ip;
    if (!ip) {
      const info = await runner.run(POT, infoEnvArgs(clone), { purpose: 'read the smoke-test pot address' });
      ip = parsePotIp(info.stdout);
      // No IP: network type inherit, nginx listens on the builder's own address.
      urlIp = ip ?? (answered(info) ? '127.0.0.1' : '<jail ip>');
    }
    // The checks reach the jail from the builder's side (a remote host forwards a port through its connection).
    baseUrl = settings.url ?? await runner.reach(urlIp!, 80);
    const { env, secretsFile } = jobParameters(smokeEnv(settings, secret, ip, db.password));
    // What the job's template renders into the task's secrets folder (never through set-env).
    const paramsFile = join(secretsDir, PARAMS_FILE_IN_JAIL.split('/').pop()!);
    await runner.writeFile(paramsFile, secretsFile, 0o600);
    await runner.run(POT, setEnvArgs(clone, env), { purpose: 'set the smoke-test parameters', secrets });

    // For a non-persistent pot `pot start` runs until cook exits: keep it in the
    // background and treat its return as "cook died".
    startRun = runner.run(POT, startArgs(clone), { allowFailure: true, purpose: 'start the smoke-test pot' });
    startRun.then((r) => { startExit = r; }, (e: unknown) => { startExit = { command: POT, args: [], exitCode: -1, stdout: '', stderr: oneLine(e), durationMs: 0 }; });

    const deadline = Date.now() + settings.timeoutSeconds * 1000;
    const target: CheckTarget = {
      baseUrl,
      domain: settings.domain,
      timeoutMs: () => Math.min(15_000, deadline - Date.now()),
    };
    const lines = httpCheckLines(baseUrl, settings.domain, clone, user);

    // /health until it answers OK, with backoff, bounded by the deadline and by cook's life.
    await here.inProcess(lines.health, async () => {
      let delay = o.pollInitialMs ?? 500;
      let last = 'no answer yet';
      for (;;) {
        if (startExit) {
          throw new SmokeCheckError('health', `the pot stopped before /health answered OK: ${startEnded(startExit)}; last /health: ${last}`);
        }
        const budget = target.timeoutMs();
        const answer = await probeHealth(target);
        if (answer === undefined) break;
        // A probe cut short by the deadline says less than the answer before it.
        if (budget >= 1000 || last === 'no answer yet') last = answer;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new SmokeCheckError('health', `/health did not answer OK within ${settings.timeoutSeconds}s (last: ${last})`);
        }
        await sleep(Math.min(delay, left));
        delay = Math.min(delay * 2, o.pollMaxMs ?? 8000);
      }
      pass('health', `/health answered OK after ${Math.round((Date.now() - started) / 1000)}s`);
    });
    await here.inProcess(lines.versions, async () => pass('client versions', `newest ${await checkVersions(target)}`));
    await here.inProcess(lines.wellKnownServer, async () => pass('well-known server', await checkWellKnownServer(target)));
    await here.inProcess(lines.wellKnownClient, async () => pass('well-known client', await checkWellKnownClient(target)));

    let userId = await here.inProcess(lines.register, () => registerWithSharedSecret(target, secret, user, password));
    await here.inProcess(lines.registerInJail, async () => undefined);
    if (userId === 'not-exposed') {
      // nginx keeps the admin API private: register from inside the jail with the
      // same endpoint (register_new_matrix_user reads the secret from the config).
      progress(`${REGISTER_PATH} is not routed by nginx; registering from inside the jail`);
      const reg = await runner.run(POT, execArgs(clone, [
        '/usr/local/bin/register_new_matrix_user', '-c', SYNAPSE_CONFIG, '-u', user, '-p', password, '--no-admin', 'http://127.0.0.1:8008',
      ]), { allowFailure: true, secrets, timeoutMs: Math.max(1000, deadline - Date.now()) });
      if (reg.exitCode !== 0) {
        const why = redact((reg.stderr || reg.stdout).trim().split('\n').slice(-1)[0] ?? '', secrets);
        throw new SmokeCheckError('shared-secret registration', `register_new_matrix_user in the jail exited ${reg.exitCode}${why ? ` (${why})` : ''}`);
      }
      userId = `@${user}:${settings.domain}`;
    }
    if (userId !== undefined) pass('shared-secret registration', `registered ${userId}`);
    await here.inProcess(lines.login, async () => pass('login', `${LOGIN_PATH} logged in as ${await checkLogin(target, user, password)}`));
    // CONTROLUSER=true: the key the job copies in is the way in, and the only one. ssh runs on the
    // builder, which reaches the jail's address (a plan records the commands and judges nothing).
    const t = sshTarget(settings.ssh, ip ?? (urlIp === '<jail ip>' ? urlIp : undefined));
    const keyLogin = await checkKeyLogin(runner, key, t.host, t.port, Math.max(1000, target.timeoutMs()));
    if (keyLogin) pass('control user key login', keyLogin);
    const refused = await checkPasswordRefused(runner, t.host, t.port, Math.max(1000, target.timeoutMs()));
    if (refused) pass('control user password login refused', refused);
    return { clone, baseUrl, checks, durationMs: Date.now() - started };
  };
  let result: SmokeTestResult | undefined;
  try {
    result = await body();
  } catch (error) {
    failure = error;
  }
  const logs = await cleanUp();
  if (failure !== undefined || !result) {
    if (failure instanceof SmokeCheckError) checks.push({ check: failure.check, ok: false, detail: failure.message });
    const what = failure instanceof SmokeCheckError ? failure.message : oneLine(failure);
    if (result) throw new SmokeTestFailure(`the checks passed, but the clean-up failed: ${redact(what, secrets)}`, logs, checks);
    const shown = logs.length > 0 ? `; the last lines of ${COOK_LOG} and ${SYNAPSE_LOG} are shown above and in the build log` : '';
    throw new SmokeTestFailure(`${redact(what, secrets)}${shown}`, logs, checks);
  }
  return result;

  /** Stop and destroy the clone and remove the scratch folder, whatever happened; read the logs first on failure. */
  async function cleanUp(): Promise<{ file: string; lines: string[] }[]> {
    const logs: { file: string; lines: string[] }[] = [];
    const problems: string[] = [];
    // Clean-up commands must never throw past here (e.g. pot vanished from PATH).
    const cleaner = o.cleanupRunner ?? (runner as { inner?: BuilderHost }).inner ?? runner;
    const quiet = async (command: string, args: string[], purpose?: string): Promise<RunResult> => {
      try {
        return await cleaner.run(command, args, { allowFailure: true, secrets, purpose });
      } catch (error) {
        return { command, args, exitCode: -1, stdout: '', stderr: oneLine(error), durationMs: 0 };
      }
    };
    if (startRun) {
      await quiet(POT, stopArgs(clone), 'stop the smoke-test pot');
      const grace = o.stopGraceMs ?? 60_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([startRun.catch(() => undefined), new Promise((r) => { timer = setTimeout(r, grace); })]);
      clearTimeout(timer);
    }
    if (created && failure !== undefined) {
      const fsRoot = (await quiet(POT, configArgs('fs_root'))).stdout.trim() || DEFAULT_FS_ROOT;
      const root = potRoot(fsRoot, clone);
      for (const file of [COOK_LOG, SYNAPSE_LOG]) {
        const tail = await quiet('tail', ['-n', String(o.logLines ?? 40), `${root}${file}`]);
        const lines = tail.exitCode === 0 ? redact(tail.stdout, secrets).split('\n').filter((l, i, a) => l !== '' || i < a.length - 1) : [`(could not read ${file}: ${redact(tail.stderr.trim(), secrets) || `tail exited ${tail.exitCode}`})`];
        logs.push({ file, lines });
        progress(`--- last lines of ${file} in ${clone} ---`);
        for (const line of lines) progress(line);
      }
    }
    if (created) {
      const d = await quiet(POT, destroyArgs(clone, true), 'destroy the smoke-test pot');
      if (d.exitCode !== 0) problems.push(`could not destroy the smoke-test pot ${clone}; remove it with 'pot destroy -F -p ${clone}'`);
    }
    if (scratch) {
      try {
        await cleaner.remove(scratch);
      } catch (error) {
        problems.push(`could not remove the scratch folder ${scratch} (${oneLine(error)}); remove it by hand`);
      }
    }
    if (problems.length > 0 && failure === undefined) {
      failure = new UserError(problems.join('; '));
    } else if (problems.length > 0) {
      progress(problems.join('; '));
    }
    return logs;
  }
}

/**
 * What `pot start` returning means for a non-persistent pot (start.sh): 125 is pot's
 * "application error" (the command exited non-zero), 0 a command that exited 0, any
 * other code pot failing to start the jail at all (the command never ran).
 */
export function startEnded(r: RunResult): string {
  if (r.exitCode === 125) return 'cook exited with an error (pot start returned 125)';
  if (r.exitCode === 0) return 'cook exited (pot start returned 0)';
  const why = failureLine(r.stdout, r.stderr);
  return `pot start failed, cook never ran (pot start returned ${r.exitCode}${why ? `: ${why}` : ''})`;
}

/** The HTTP checks as the curl commands a person would type (plan and log). */
function httpCheckLines(base: string, domain: string, clone: string, user: string) {
  const h = `-H 'Host: ${domain}'`;
  return {
    health: `curl -fsS ${h} ${base}/health   # repeated with backoff until it answers OK or the deadline passes`,
    versions: `curl -fsS ${h} ${base}/_matrix/client/versions`,
    wellKnownServer: `curl -fsSi ${h} ${base}/.well-known/matrix/server`,
    wellKnownClient: `curl -fsSi ${h} ${base}/.well-known/matrix/client`,
    register: `curl -fsS ${h} ${base}${REGISTER_PATH}   # nonce; then POST with HMAC-SHA1(MYSHAREDSECRET, nonce\\0${user}\\0***\\0notadmin)`,
    registerInJail: `#   (when nginx does not route ${REGISTER_PATH}: pot exec -p ${clone} register_new_matrix_user -c ${SYNAPSE_CONFIG} -u ${user} -p *** --no-admin http://127.0.0.1:8008)`,
    login: `curl -fsS ${h} -d '{"type":"m.login.password","identifier":{"type":"m.id.user","user":"${user}"},"password":"***"}' ${base}${LOGIN_PATH}`,
  };
}
