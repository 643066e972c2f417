// Acceptance, between `pot snapshot` and `pot export`: are the inputs new since
// the last published tag, does a throwaway clone of the image boot and serve
// Matrix, what packages are inside, and are any of them known-vulnerable.
import type { ListrTask, ListrTaskWrapper } from 'listr2';
import { UserError } from '../errors.js';
import { auditFailureMessage, auditWarnings, pkgAuditArgs, runAudit, type AuditReport } from '../acceptance/audit.js';
import { computeInputFingerprint, readLastPublished, type InputFingerprint, type LastPublished } from '../acceptance/input-fingerprint.js';
import { diffManifests, formatDiff, manifestText, parsePkgQuery, pkgQueryArgs, PKG, type PackagesManifest } from '../acceptance/package-manifest.js';
import { answered } from '../builder/host.js';
import { POT } from '../pot/command.js';
import { DEFAULT_FS_ROOT, configArgs, potRoot } from '../pot/config.js';
import { loadAcceptanceSettings, type AcceptanceSettings } from '../acceptance/settings.js';
import { RUNTIME_CHECK, runRuntimeCheck } from '../acceptance/runtime-check.js';
import { SmokeTestFailure, runSmokeTest, smokeDbPassword, type SmokeTestResult } from '../acceptance/smoke-test.js';
import { commandLine } from '../runner/shell-quote.js';
import { refuse, removeWritten, type BuildContext, type BuildStep } from './context.js';

/** Not an error: the inputs equal the last published tag's, so there is nothing new to build (exit 0). */
export class InputsUnchanged extends UserError {
  constructor(message: string) {
    super(message, 0);
    this.name = 'InputsUnchanged';
  }
}

interface AcceptanceState {
  settings?: AcceptanceSettings;
  inputs?: InputFingerprint;
  inputsChecked?: boolean;
  lastPublished?: LastPublished;
  smoke?: SmokeTestResult;
  smokeSkipped?: boolean;
}

const states = new WeakMap<BuildContext, AcceptanceState>();
function state(ctx: BuildContext): AcceptanceState {
  let s = states.get(ctx);
  if (!s) states.set(ctx, (s = {}));
  return s;
}

function settingsOf(ctx: BuildContext): AcceptanceSettings {
  const s = state(ctx);
  return (s.settings ??= loadAcceptanceSettings(ctx.definition.file));
}

function acceptanceSummary(ctx: BuildContext): Record<string, unknown> {
  const current = ctx.summary.acceptance;
  if (current && typeof current === 'object') return current as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  ctx.summary.acceptance = fresh;
  return fresh;
}

type Task = ListrTaskWrapper<BuildContext, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Compare the inputs with the last published tag. Can also run early (in
 * preflight) to stop before `pot create`; it then does nothing the second time.
 */
export async function checkInputs(ctx: BuildContext, task?: Task): Promise<void> {
  const s = state(ctx);
  if (s.inputsChecked) return;
  s.inputsChecked = true;
  // Validate the acceptance section early, and that the smoke test's database password is there.
  const smoke = settingsOf(ctx).smoke;
  const db = ctx.options.skipSmokeTest ? {} : smokeDbPassword(smoke);
  if (db.missing) refuse(ctx, new UserError(db.missing, 2));
  const inputs = computeInputFingerprint(ctx.definition);
  s.inputs = inputs;
  const summary = acceptanceSummary(ctx);
  summary.inputs = { fingerprint: inputs.fingerprint, lastPublished: null, unchanged: false };
  const repo = ctx.definition.publish.to ?? ctx.definition.publish.publicUrl;
  const say = (line: string) => { if (task) task.output = line; ctx.note(`# ${line}`); };
  if (!repo) {
    say(`inputs ${inputs.fingerprint}; no repository configured, nothing to compare with`);
    return;
  }
  try {
    s.lastPublished = await readLastPublished(repo, ctx.definition.potName);
  } catch (error) {
    const msg = `could not read the last published tag from ${repo} (${(error as Error).message}); building without the reuse check`;
    ctx.warnings.push(msg);
    say(msg);
    return;
  }
  const last = s.lastPublished;
  if (!last) {
    say(`inputs ${inputs.fingerprint}; nothing of ${ctx.definition.potName} is published in ${repo} yet`);
    return;
  }
  summary.inputs = { fingerprint: inputs.fingerprint, lastPublished: { tag: last.tag, fingerprint: last.fingerprint ?? null }, unchanged: last.fingerprint === inputs.fingerprint };
  if (last.fingerprint !== inputs.fingerprint) {
    say(last.fingerprint ? `inputs changed since ${last.tag}` : `${last.tag} has no recorded input fingerprint; building`);
    return;
  }
  const same = `the inputs (image definition, flavour files, FreeBSD ${inputs.release}) are unchanged since the published ${last.tag}`;
  if (ctx.options.rebuild) {
    say(`${same}; rebuilding as asked (--rebuild) to pick up package updates`);
  } else if (ctx.options.noPublish) {
    say(`${same}; building anyway because nothing is published (--no-publish)`);
  } else {
    refuse(ctx, new InputsUnchanged(`${same}; nothing to do. Pass --rebuild to build ${ctx.definition.tag} anyway (it picks up package updates)`));
  }
}

/** --skip-smoke-test, declared on the task: loud, and recorded in the summary. */
function smokeSkipped(ctx: BuildContext): string | false {
  if (!ctx.options.skipSmokeTest) return false;
  state(ctx).smokeSkipped = true;
  const msg = 'SMOKE TEST SKIPPED (--skip-smoke-test): this image was NOT booted before export; nobody checked that cook starts Synapse';
  ctx.warnings.push(msg);
  ctx.note(`# ${msg}`);
  acceptanceSummary(ctx).smokeTest = { status: 'skipped' };
  return msg;
}

function withPlaceholder(smoke: AcceptanceSettings['smoke']): NodeJS.ProcessEnv {
  const name = smoke.postgresql?.passwordEnv;
  return name && !process.env[name] ? { ...process.env, [name]: '(not set)' } : process.env;
}

async function smokeTask(ctx: BuildContext, task: Task): Promise<void> {
  const s = state(ctx);
  const summary = acceptanceSummary(ctx);
  try {
    const result = await runSmokeTest({
      runner: ctx.runner,
      here: ctx.home,
      pot: ctx.definition.potName,
      settings: settingsOf(ctx).smoke,
      // Without the password a build has stopped already (checkInputs); a plan shows the smoke test anyway.
      env: withPlaceholder(settingsOf(ctx).smoke),
      progress: (line) => { task.output = line; },
    });
    s.smoke = result;
    summary.smokeTest = { status: result.checks.length ? 'passed' : 'planned', clone: result.clone, url: result.baseUrl, durationMs: result.durationMs, checks: result.checks };
  } catch (error) {
    if (error instanceof SmokeTestFailure) summary.smokeTest = { status: 'failed', checks: error.checks, logs: error.logs };
    throw error;
  }
}

/** In the built pot's root, without starting it: every installed program answers. */
async function runtimeTask(ctx: BuildContext, task: Task): Promise<void> {
  const summary = acceptanceSummary(ctx);
  const fsRoot = (await ctx.runner.run(POT, configArgs('fs_root'), { purpose: "read pot's fs_root" })).stdout.trim() || DEFAULT_FS_ROOT;
  const root = potRoot(fsRoot, ctx.definition.potName);
  const lines = await runRuntimeCheck(ctx.runner, root, ctx.definition.freebsd.potRelease);
  if (!lines) return; // the plan: nothing ran, nothing to judge
  summary.runtime = lines;
  task.output = lines.map((l) => `ok ${l.origin}: ${l.detail}`).join('\n');
  ctx.note(`# runtime check (${RUNTIME_CHECK}): ${lines.length} programs answered`);
}

async function packagesTask(ctx: BuildContext, task: Task): Promise<void> {
  const s = state(ctx);
  const summary = acceptanceSummary(ctx);
  if (!s.inputs) await checkInputs(ctx);
  const fsRoot = (await ctx.runner.run(POT, configArgs('fs_root'), { purpose: "read pot's fs_root" })).stdout.trim() || DEFAULT_FS_ROOT;
  const root = potRoot(fsRoot, ctx.definition.potName);

  const query = await ctx.runner.run(PKG, pkgQueryArgs(root), { purpose: 'list the packages of the image' });
  if (!answered(query)) {
    // The plan: the package list is not known, so the audit is shown as the command it becomes.
    ctx.note(`${commandLine(PKG, pkgAuditArgs([]))} NAME-VERSION...   # every package listed above`);
    ctx.note(`# write ${ctx.artifacts.packages} (packages, audit result, input fingerprint)`);
    return;
  }
  const packages = parsePkgQuery(query.stdout);
  task.output = `${packages.length} packages in the image`;
  const audit: AuditReport = await runAudit(ctx.runner, packages, settingsOf(ctx).auditAllow);
  summary.audit = audit;
  for (const w of auditWarnings(audit)) {
    ctx.warnings.push(w);
    task.output = w;
  }
  if (audit.status === 'vulnerable') throw new UserError(auditFailureMessage(audit));

  const manifest: PackagesManifest = {
    schema: 1,
    pot: ctx.definition.potName,
    tag: ctx.definition.tag,
    freebsd: { release: ctx.definition.freebsd.release, arch: ctx.definition.freebsd.arch },
    createdAt: new Date().toISOString(),
    inputs: { fingerprint: s.inputs!.fingerprint },
    packages,
    audit,
    smokeTest: s.smoke
      ? { status: 'passed', checks: s.smoke.checks.map(({ check, detail }) => ({ check, detail })) }
      : { status: 'skipped' },
  };
  await ctx.home.writeFile(ctx.artifacts.packages, manifestText(manifest));
  ctx.written.push(ctx.artifacts.packages);
  summary.packages = { count: packages.length, manifest: ctx.artifacts.packages };
  ctx.note(`# wrote ${ctx.artifacts.packages}: ${packages.length} packages, audit ${audit.status}`);

  const last = s.lastPublished;
  if (ctx.options.rebuild && last) {
    if (!last.manifest?.packages) {
      task.output = `no package manifest published for ${last.tag}; no diff to show`;
    } else {
      const diff = diffManifests(last.manifest.packages, packages);
      summary.packageDiff = { from: last.tag, to: ctx.definition.tag, ...diff };
      const lines = formatDiff(diff, last.tag, ctx.definition.tag);
      for (const line of lines) ctx.note(`# ${line}`);
      task.output = lines.join('\n');
    }
  }
}

const keep = { persistentOutput: true, outputBar: Infinity };

/** Runs right after preflight, so unchanged inputs stop the build before the long `pot create`. */
export function reuseCheckTask(): ListrTask<BuildContext> {
  return {
    title: 'Reuse check: inputs against the last published tag',
    task: (ctx, task) => checkInputs(ctx, task),
    rendererOptions: keep,
  };
}

/** Between `pot snapshot` and `pot export`: boot a clone, list and audit its packages. */
export function acceptanceTasks(): BuildStep[] {
  return [
    {
      title: 'Runtime check: the installed programs run on the jail\'s userland',
      task: (ctx, task) => runtimeTask(ctx, task),
      rendererOptions: keep,
    },
    {
      title: 'Smoke test: boot a throwaway clone of the image',
      skip: (ctx) => smokeSkipped(ctx),
      task: (ctx, task) => smokeTask(ctx, task),
      rendererOptions: keep,
    },
    {
      title: 'Audit: package manifest and known vulnerabilities',
      task: (ctx, task) => packagesTask(ctx, task),
      cleanup: async (ctx, { home, failed }) => (failed && (await removeWritten(ctx, home, [ctx.artifacts.packages])) ? 'removed the package manifest' : undefined),
      rendererOptions: keep,
    },
  ];
}
