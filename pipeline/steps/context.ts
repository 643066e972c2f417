// The state shared by the build's listr2 tasks. Each step module in this
// folder returns titled tasks (np-style: `enabled`/`skip`) that read and fill it.
import type { ListrTask } from 'listr2';
import type { BuilderHost } from '../builder/host.js';
import type { Lifecycle } from '../definition/lifecycle.js';
import type { ImageDefinition } from '../definition/types.js';

export interface BuildOptions {
  /** Print the plan instead of running it (ctx.runner and ctx.home are then recording PlanHosts). */
  dryRun: boolean;
  /** Keep the build pot after the build (default: destroyed, also on failure). */
  keep: boolean;
  verbose: boolean;
  json: boolean;
  /** Fail instead of warning when no signing key is configured (issue 3). */
  requireSignature: boolean;
  /** Skip the acceptance smoke test (issue 7); loud. */
  skipSmokeTest: boolean;
  /** Build even when the inputs equal the last published tag's (issue 7). */
  rebuild: boolean;
  /** Allow publishing a tag lower than the newest one in the repository (issue 4). */
  allowOlder: boolean;
  /** Do not publish even when publish.to is set. */
  noPublish: boolean;
}

/** The four export files (absolute paths) plus what the build adds beside them. */
export interface ArtifactPaths {
  /** `<output>/<pot>_<tag>.xz` */
  xz: string;
  meta: string;
  skein: string;
  sig: string;
  buildLog: string;
  /** `<output>/<pot>_<tag>.packages.json` (issue 7) */
  packages: string;
  /** `<output>/<pot>_<tag>.summary.json` (--json) */
  summary: string;
}

export interface BuildContext {
  definition: ImageDefinition;
  options: BuildOptions;
  /** The builder: every pot command and every file operation on the FreeBSD host (local, plan or SSH). */
  runner: BuilderHost;
  /** This machine: the output folder, signing, publishing (the real local host, or the plan). */
  home: BuilderHost;
  artifacts: ArtifactPaths;
  /** Lines for the log and, in --dry-run, for the plan: in-process steps (signing,
   *  publishing) describe themselves here as the equivalent shell command. */
  note(line: string): void;
  /** --dry-run: the plan's lines from now on belong to this step (or it would be skipped, and why). */
  planStep?(title: string, skipped?: string): void;
  /** Warnings shown again at the end of the build (unsigned image, EOL release, skipped smoke test). */
  warnings: string[];
  /** Set once `pot create` has started, so the create step's cleanup looks for the pot. */
  potCreated: boolean;
  /** Machine-readable summary (--json): steps add what they produced. */
  summary: Record<string, unknown>;
  /** Step durations in ms by title (--json). */
  durations: Record<string, number>;
  /** The build's temporary folder on the builder (staged flavours, the export); the stage step removes it. */
  builderDir?: string;
  /** `<output>/.<pot>_<tag>.partial`: where the artifacts arrive before they take their final names. */
  arrivalDir?: string;
  /** Files on this machine this build wrote under a final name (removed again if the build fails). */
  written: string[];
  /** The step that failed (named in the error message and the --json summary). */
  failedStep?: string;
  /** Set when SIGINT/SIGTERM stopped the build. */
  interrupted?: string;
  /** The release's place in FreeBSD's lifecycle on the build date (admitted before the build started). */
  lifecycle?: Lifecycle;
}

/** What a step's cleanup gets: the hosts that still work after Ctrl-C, and whether the build failed. */
export interface CleanupCall {
  failed: boolean;
  builder: BuilderHost;
  home: BuilderHost;
}

/**
 * A build step: a listr2 task (np-style, with `enabled`/`skip` for its conditions)
 * that owns the cleanup of what it creates (Packer's step Cleanup). After the
 * build, the cleanups of the steps that started run in reverse order; each
 * returns what it did, for the cleanup line.
 */
export interface BuildStep extends ListrTask<BuildContext> {
  cleanup?: (ctx: BuildContext, call: CleanupCall) => Promise<string | undefined>;
}

/** `<output>/<pot>_<tag>.*` */
export function artifactPaths(outputDir: string, pot: string, tag: string): ArtifactPaths {
  const base = `${outputDir}/${pot}_${tag}`;
  return {
    xz: `${base}.xz`,
    meta: `${base}.xz.meta`,
    skein: `${base}.xz.skein`,
    sig: `${base}.xz.skein.sig`,
    buildLog: `${base}.build.log`,
    packages: `${base}.packages.json`,
    summary: `${base}.summary.json`,
  };
}

/** After a failure: remove those of `paths` this build wrote (never a file that was there before); how many. */
export async function removeWritten(ctx: BuildContext, home: BuilderHost, paths: readonly string[]): Promise<number> {
  const mine = paths.filter((p) => ctx.written.includes(p));
  for (const p of mine) await home.remove(p);
  ctx.written = ctx.written.filter((p) => !mine.includes(p));
  return mine.length;
}

/**
 * Something that stops a build (a version mismatch, unchanged inputs, a missing secret): a real
 * build throws it; a plan shows what would run past it, so it records it as a warning and goes on.
 * The one place where the dry run changes what a step does; steps just call this.
 */
export function refuse(ctx: BuildContext, error: Error): void {
  if (!ctx.options.dryRun) throw error;
  const line = error.message.split('\n')[0]!;
  ctx.warnings.push(line);
  ctx.note(`# a build would stop here: ${line}`);
}
