// The build: the listr2 task list in its fixed order, cleanup that always
// runs, signal handling, the plan (--dry-run) and the --json summary.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Listr, ListrLogger, PRESET_TIMER, ProcessOutput, type ListrTask } from 'listr2';
import type { BuilderHost } from '../builder/host.js';
import { InterruptibleHost } from '../builder/interruptible-host.js';
import { LocalHost } from '../builder/local-host.js';
import { PlanBook, PlanHost, type PlanStep } from '../builder/plan-host.js';
import { SshHost } from '../builder/ssh-host.js';
import { UserError, oneLine } from '../errors.js';
import type { Lifecycle } from '../definition/lifecycle.js';
import type { ImageDefinition } from '../definition/types.js';
import { ExecaRunner } from '../runner/execa-runner.js';
import { secretsFromEnv } from '../runner/secrets.js';
import { InputsUnchanged, acceptanceTasks, reuseCheckTask } from './acceptance-tasks.js';
import { checkTask } from './check-step.js';
import { artifactPaths, type BuildContext, type BuildOptions, type BuildStep } from './context.js';
import { exportTask } from './export-step.js';
import { createTask, snapshotTask } from './pot-steps.js';
import { ReleaseSkipped, preflightTask } from './preflight.js';
import { publishTasks } from './publish-tasks.js';
import { preseedTask } from './release-checks.js';
import { signTasks } from './sign-tasks.js';
import { stageFlavoursTask } from './stage-flavours.js';

export interface BuildIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Replace the builder host (tests). Default: this machine, an SSH builder (definition.builder) or the plan. */
  host?: BuilderHost;
  /** The release's lifecycle verdict (admitReleases); preflight shows it and warns near the end. */
  lifecycle?: Lifecycle;
}

/** The build's steps in their fixed order. */
export function buildTasks(): BuildStep[] {
  return [
    preflightTask(),
    reuseCheckTask(),
    preseedTask(),
    stageFlavoursTask(),
    createTask(),
    snapshotTask(),
    ...acceptanceTasks(),
    exportTask(),
    checkTask(),
    ...signTasks(),
    ...publishTasks(),
  ];
}

/** Step name for messages: the task's first title up to any ':' or '(' ("Acceptance: smoke test" → "Acceptance"). */
function stepName(title: string | undefined): string {
  return (title ?? 'step').split(/[:(]/)[0]!.trim();
}

/** Time each step, refuse to start one after Ctrl-C, name the step in its error, and note that it started (for its cleanup). */
function instrument(t: BuildStep, started: BuildStep[], alwaysRuns = false): ListrTask<BuildContext> {
  const title = typeof t.title === 'string' ? t.title : 'step';
  const name = stepName(title);
  const skip = t.skip;
  const { cleanup: _cleanup, ...listrTask } = t;
  return {
    ...listrTask,
    // The plan lists a skipped step with its reason (a plan shows what would not run too).
    ...(skip === undefined ? {} : {
      skip: async (ctx: BuildContext) => {
        const reason = typeof skip === 'function' ? await skip(ctx) : skip;
        if (reason) ctx.planStep?.(title, typeof reason === 'string' ? reason : 'skipped');
        return reason;
      },
    }),
    task: async (ctx, task) => {
      ctx.planStep?.(title);
      if (ctx.interrupted && !alwaysRuns) throw new UserError(`interrupted by ${ctx.interrupted} before ${name}`, 130);
      started.push(t);
      const startedAt = Date.now();
      try {
        // A dry run renders no task list and no step messages ("23 files staged" would read as done):
        // the plan says what each step would do; warnings still come at the end.
        const target = ctx.options.dryRun
          ? new Proxy(task, {
            set(obj, prop, value) {
              if (prop === 'output') return true;
              return Reflect.set(obj, prop, value);
            },
          })
          : task;
        return await t.task(ctx, target);
      } catch (error) {
        ctx.failedStep ??= name;
        const code = ctx.interrupted ? 130 : error instanceof UserError ? error.exitCode : 1;
        const where = ctx.runner.where && !/builder /.test(oneLine(error)) && name !== 'sign' && name !== 'publish' && name !== 'verify' ? ` (on ${ctx.runner.where})` : '';
        const text = ctx.interrupted ? `interrupted by ${ctx.interrupted}` : `${oneLine(error)}${where}`;
        throw new UserError(`${name} failed: ${text}`, code, { cause: error });
      } finally {
        // Keyed by the full title: several tasks of one step (e.g. "Acceptance: ...") stay apart.
        ctx.durations[title] = (ctx.durations[title] ?? 0) + Date.now() - startedAt;
      }
    },
  };
}

function listrOptions(io: BuildIo, toStderr: boolean, verbose: boolean, dryRun: boolean) {
  const stream = toStderr ? io.stderr : io.stdout;
  const plain = !stream.isTTY || io.env.CI === 'true' || io.env.CI === '1' || verbose;
  const processOutput = new ProcessOutput(
    stream as NodeJS.WriteStream,
    io.stderr as NodeJS.WriteStream,
    { leaveEmptyLine: false },
  );
  const logger = new ListrLogger({ processOutput, useIcons: true });
  return {
    renderer: 'default' as const,
    fallbackRenderer: 'simple' as const,
    // Plain lines (with durations) when the stream is not a terminal, in CI, or with --verbose.
    fallbackRendererCondition: plain,
    // A dry run prints only the plan: no ticks, no "destroyed", nothing that reads as done.
    silentRendererCondition: dryRun,
    // listr2 looks at process.stdout; with --json/--dry-run the progress goes to stderr, which may be the terminal.
    forceTTY: !plain,
    // Signals are ours: cleanup must run before the process ends.
    registerSignalListeners: false,
    exitOnError: true,
    collectErrors: false as const,
    rendererOptions: { timer: { ...PRESET_TIMER, condition: true }, logger, collapseErrors: false, showErrorMessage: true },
    fallbackRendererOptions: { timer: { ...PRESET_TIMER, condition: true }, logger },
  };
}

export interface BuildResult {
  code: number;
  ctx: BuildContext;
  plan?: string[];
  /** The plan grouped by step (--dry-run). */
  planSteps?: PlanStep[];
  error?: string;
  /** Set when the build stopped because nothing changed since the last published tag (exit 0, nothing built). */
  unchanged?: string;
  /** Set when this release came from the definition's list and the builder cannot run it (exit 0, nothing built). */
  skipped?: string;
}

/** The InputsUnchanged stop, wherever instrument() wrapped it. */
function unchangedStop(error: unknown): InputsUnchanged | undefined {
  for (let e = error; e instanceof Error; e = e.cause) if (e instanceof InputsUnchanged) return e;
  return undefined;
}

/** The steps' cleanups, in reverse order of their start; each runs whatever the others did. */
function cleanupTask(started: BuildStep[], failed: () => boolean, builder: BuilderHost, home: BuilderHost): BuildStep {
  return {
    title: 'cleanup',
    task: async (ctx, task) => {
      const done: string[] = [];
      const problems: string[] = [];
      for (const step of [...started].reverse()) {
        if (!step.cleanup) continue;
        try {
          const what = await step.cleanup(ctx, { failed: failed(), builder, home });
          if (what) done.push(what);
        } catch (error) {
          problems.push(oneLine(error));
        }
      }
      task.output = done.join(', ') || 'nothing to clean up';
      if (problems.length) throw new UserError(problems.join('; '));
    },
  };
}

/** The hosts of a build: the builder and this machine, real or planned. */
async function hostsFor(definition: ImageDefinition, options: BuildOptions, io: BuildIo, secrets: string[], logFile: () => string): Promise<{ builder: BuilderHost; home: BuilderHost; book?: PlanBook; local?: ExecaRunner }> {
  if (options.dryRun && !io.host) {
    const book = new PlanBook(secrets);
    const where = definition.builder?.where ?? '';
    if (where) return { book, home: new PlanHost(book), builder: new PlanHost(book, where) };
    // A local build is one host, as in a real local build: the builder is this machine.
    const here = new PlanHost(book, '', 'run on the builder (this host) as root');
    return { book, home: here, builder: here };
  }
  const local = new ExecaRunner({ logFile: logFile(), secrets, verbose: options.verbose });
  const home = new LocalHost(local);
  if (io.host) return { builder: io.host, home, local };
  if (!definition.builder) return { builder: home, home, local };
  const ssh = new SshHost({ target: definition.builder, runner: local, configFile: io.env.POT_IMAGE_SSH_CONFIG || undefined });
  try {
    await ssh.connect();
  } catch (error) {
    await ssh.close();
    throw error;
  }
  return { builder: ssh, home, local };
}

/** The ReleaseSkipped stop, wherever instrument() wrapped it. */
function skippedStop(error: unknown): ReleaseSkipped | undefined {
  for (let e = error; e instanceof Error; e = e.cause) if (e instanceof ReleaseSkipped) return e;
  return undefined;
}

export async function runBuild(definition: ImageDefinition, options: BuildOptions, io: BuildIo): Promise<BuildResult> {
  const artifacts = artifactPaths(definition.export.output, definition.potName, definition.tag);
  const secrets = secretsFromEnv(io.env);
  const logFile = () => {
    try {
      mkdirSync(definition.export.output, { recursive: true });
      writeFileSync(artifacts.buildLog, `# pot-image build ${definition.potName} ${definition.tag}${definition.builder ? ` on ${definition.builder.where}` : ''} started ${new Date().toISOString()}\n`);
    } catch (error) {
      throw new UserError(`cannot write the build log in ${definition.export.output} (${oneLine(error)}); pass --output DIR`);
    }
    return artifacts.buildLog;
  };
  const { builder: baseBuilder, home: baseHome, book, local } = await hostsFor(definition, options, io, secrets, logFile);
  const runner = new InterruptibleHost(baseBuilder);
  const home = baseHome === baseBuilder ? runner : new InterruptibleHost(baseHome);
  const ctx: BuildContext = {
    definition,
    options,
    runner,
    home,
    artifacts,
    note(line: string) {
      if (book) book.record(line);
      else local?.log(`\n$ ${line}   # in-process\n`);
    },
    warnings: [],
    ...(book ? { planStep: (title: string, skipped?: string) => (skipped === undefined ? book.step(title) : book.skipped(title, skipped)) } : {}),
    potCreated: false,
    summary: {},
    durations: {},
    written: [],
    lifecycle: io.lifecycle,
  };

  // Ctrl-C / SIGTERM: stop the running command, let the task fail, run cleanup. A second signal exits at
  // once, but only after a grace period: under `npm run`, Ctrl-C reaches us twice (from the terminal's
  // process group and forwarded by npm), and that must not skip the cleanup.
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (ctx.interrupted) {
      if (Date.now() - firstSignalAt < 2000) return;
      io.stderr.write(`pot-image: ${signal} again, exiting without cleanup; remove the pot with: pot destroy -F -p ${definition.potName}${definition.builder ? ` (on ${definition.builder.where})` : ''}\n`);
      process.exit(signal === 'SIGTERM' ? 143 : 130);
    }
    ctx.interrupted = signal;
    firstSignalAt = Date.now();
    runner.interrupt(signal);
    if (home instanceof InterruptibleHost && home !== runner) home.interrupt(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const toStderr = options.json || options.dryRun;
  const lopts = listrOptions(io, toStderr, options.verbose, options.dryRun);
  const started: BuildStep[] = [];
  let error: unknown;
  try {
    await new Listr<BuildContext>(buildTasks().map((t) => instrument(t, started)), { ...lopts, ctx }).run();
  } catch (e) {
    error = e;
  }
  let cleanupError: string | undefined;
  try {
    await new Listr<BuildContext>([instrument(cleanupTask(started, () => error !== undefined, baseBuilder, baseHome), [], true)], { ...lopts, ctx }).run();
  } catch (e) {
    // A failed cleanup must be reported, but never hides the build's own error.
    cleanupError = oneLine(e);
    ctx.warnings.push(`${cleanupError}; remove what is left by hand${definition.builder ? ` on ${definition.builder.where}` : ''}: pot destroy -F -p ${definition.potName}${ctx.builderDir ? `; rm -rf ${ctx.builderDir}` : ''} (the next build's preflight names what is left)`);
    error ??= e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await baseBuilder.close();
  }

  let code = 0;
  let message: string | undefined;
  const skip = skippedStop(error);
  if (skip && !cleanupError) {
    local?.log(`\n# skipped: ${skip.message}\n`);
    return { code: 0, ctx, plan: book?.lines, planSteps: book?.steps, skipped: skip.message };
  }
  const stop = unchangedStop(error);
  if (stop && !cleanupError) {
    local?.log(`\n# nothing built: ${stop.message}\n`);
    return { code: 0, ctx, plan: book?.lines, planSteps: book?.steps, unchanged: stop.message };
  }
  if (error !== undefined) {
    code = ctx.interrupted ? (ctx.interrupted === 'SIGTERM' ? 143 : 130) : error instanceof UserError ? error.exitCode : 1;
    message = ctx.interrupted
      ? `build interrupted by ${ctx.interrupted} during ${ctx.failedStep ?? 'the build'}; ${
        cleanupError ? `cleanup failed too (${cleanupError})` : ctx.options.keep ? 'the pot was kept (--keep)' : 'the build pot was destroyed'} and no artifact was written`
      : oneLine(error);
  }
  local?.log(`\n# build ${message ? `failed: ${message}` : 'succeeded'}\n`);
  return { code, ctx, plan: book?.lines, planSteps: book?.steps, error: message };
}

/** The --json summary. */
export function summaryOf(result: BuildResult): Record<string, unknown> {
  const { ctx } = result;
  const d = ctx.definition;
  return {
    ok: result.code === 0,
    ...(result.unchanged ? { unchanged: true, message: result.unchanged } : {}),
    ...(result.skipped ? { skipped: true, message: result.skipped } : {}),
    ...(result.error ? { error: result.error, failedStep: ctx.failedStep } : {}),
    dryRun: ctx.options.dryRun,
    pot: d.potName,
    tag: d.tag,
    release: d.freebsd.potRelease,
    arch: d.freebsd.arch,
    ...(ctx.lifecycle ? { lifecycle: { status: ctx.lifecycle.status, eol: ctx.lifecycle.eol, ...(d.freebsd.eolAllowance ? { allowedBecause: d.freebsd.eolAllowance } : {}) } } : {}),
    ...ctx.summary,
    buildLog: ctx.options.dryRun ? undefined : ctx.artifacts.buildLog,
    durationsMs: ctx.durations,
    warnings: ctx.warnings,
    ...(result.plan ? { plan: result.plan } : {}),
  };
}
