// The smoke test: boot a throwaway clone of the built pot the way Nomad does
// (clone, non-persistent, cook as command, /mnt mounted, env set, start), check
// it through its nginx within a deadline, and always clean up. The built pot
// itself is never started, so the image is never "seasoned" by cook.
import { randomBytes } from 'node:crypto';
import { answered, type BuilderHost } from '../builder/host.js';
import { LocalHost } from '../builder/local-host.js';
import { UserError, oneLine } from '../errors.js';
import { failureLine } from '../runner/execa-runner.js';
import { redact } from '../runner/redact.js';
import type { RunResult } from '../runner/types.js';
import * as pot from './pot-commands.js';
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

/** The parameters cook gets: TLS off, a generated secret, no SMTP, no LDAP. */
export function smokeEnv(settings: SmokeSettings, secret: string, ip: string | undefined): Record<string, string> {
  return {
    ...(ip ? { IP: ip } : {}),
    DOMAIN: settings.domain,
    ALERTEMAIL: settings.alertEmail,
    MYSHAREDSECRET: secret,
    ENABLEREGISTRATION: 'false',
    NOSSL: 'true',
  };
}

export async function runSmokeTest(o: SmokeTestOptions): Promise<SmokeTestResult> {
  const started = Date.now();
  const { runner, settings } = o;
  const clone = `${o.pot}-smoke-${randomBytes(3).toString('hex')}`;
  const secret = randomBytes(24).toString('hex');
  const user = `smoke${randomBytes(3).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const secrets = [secret, password];
  const progress = o.progress ?? (() => undefined);
  const checks: SmokeCheckResult[] = [];
  const pass = (check: string, detail: string) => { checks.push({ check, ok: true, detail }); progress(`ok   ${check}: ${detail}`); };

  const here = o.here ?? new LocalHost();
  // cook chowns its folders below /mnt to the synapse user, who must be able to enter /mnt.
  const scratch: string | undefined = await runner.makeTempDir('pot-image-smoke-', 0o755);

  let created = false;
  let startRun: Promise<RunResult> | undefined;
  let startExit: RunResult | undefined;
  let failure: unknown;
  let baseUrl = settings.url ?? 'http://<jail ip>';

  const body = async (): Promise<SmokeTestResult> => {
    await runner.run(pot.POT, pot.cloneArgs(o.pot, clone, settings.ip), { purpose: `clone ${o.pot} for the smoke test` });
    created = true;
    // What Nomad's pot driver does with every allocation (pot prepare).
    await runner.run(pot.POT, pot.setAttributeArgs(clone, 'persistent', 'NO'), { purpose: 'make the smoke-test pot non-persistent' });
    await runner.run(pot.POT, pot.setAttributeArgs(clone, 'no-rc-script', 'YES'), { purpose: 'start cook without /etc/rc' });
    await runner.run(pot.POT, pot.setCmdArgs(clone, COOK), { purpose: 'set cook as the start command' });
    await runner.run(pot.POT, pot.mountInArgs(clone, scratch, '/mnt'), { purpose: 'mount the scratch folder at /mnt' });

    let ip = settings.ip;
    let urlIp = ip;
    if (!ip) {
      const info = await runner.run(pot.POT, pot.infoEnvArgs(clone), { purpose: 'read the smoke-test pot address' });
      ip = pot.parsePotIp(info.stdout);
      // No IP: network type inherit, nginx listens on the builder's own address.
      urlIp = ip ?? (answered(info) ? '127.0.0.1' : '<jail ip>');
    }
    // The checks reach the jail from the builder's side (a remote host forwards a port through its connection).
    baseUrl = settings.url ?? await runner.reach(urlIp!, 80);
    await runner.run(pot.POT, pot.setEnvArgs(clone, smokeEnv(settings, secret, ip)), { purpose: 'set the smoke-test parameters', secrets });

    // For a non-persistent pot `pot start` runs until cook exits: keep it in the
    // background and treat its return as "cook died".
    startRun = runner.run(pot.POT, pot.startArgs(clone), { allowFailure: true, purpose: 'start the smoke-test pot' });
    startRun.then((r) => { startExit = r; }, (e: unknown) => { startExit = { command: pot.POT, args: [], exitCode: -1, stdout: '', stderr: oneLine(e), durationMs: 0 }; });

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
      const reg = await runner.run(pot.POT, pot.execArgs(clone, [
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
      await quiet(pot.POT, pot.stopArgs(clone), 'stop the smoke-test pot');
      const grace = o.stopGraceMs ?? 60_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([startRun.catch(() => undefined), new Promise((r) => { timer = setTimeout(r, grace); })]);
      clearTimeout(timer);
    }
    if (created && failure !== undefined) {
      const fsRoot = (await quiet(pot.POT, pot.fsRootArgs())).stdout.trim() || pot.DEFAULT_FS_ROOT;
      const root = pot.potRoot(fsRoot, clone);
      for (const file of [COOK_LOG, SYNAPSE_LOG]) {
        const tail = await quiet('tail', ['-n', String(o.logLines ?? 40), `${root}${file}`]);
        const lines = tail.exitCode === 0 ? redact(tail.stdout, secrets).split('\n').filter((l, i, a) => l !== '' || i < a.length - 1) : [`(could not read ${file}: ${redact(tail.stderr.trim(), secrets) || `tail exited ${tail.exitCode}`})`];
        logs.push({ file, lines });
        progress(`--- last lines of ${file} in ${clone} ---`);
        for (const line of lines) progress(line);
      }
    }
    if (created) {
      const d = await quiet(pot.POT, pot.destroyArgs(clone), 'destroy the smoke-test pot');
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
