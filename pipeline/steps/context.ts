// The state shared by the build's listr2 tasks. Each step module in this
// folder returns titled tasks (np-style: `enabled`/`skip`) that read and fill it.
import type { Lifecycle } from '../definition/lifecycle.js';
import type { ImageDefinition } from '../definition/types.js';
import type { CommandRunner } from '../runner/types.js';

export interface BuildOptions {
  /** Print the plan instead of running it (ctx.runner is then a recording PlanRunner). */
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
  runner: CommandRunner;
  artifacts: ArtifactPaths;
  /** Lines for the log and, in --dry-run, for the plan: in-process steps (signing,
   *  publishing) describe themselves here as the equivalent shell command. */
  note(line: string): void;
  /** --dry-run: the plan's lines from now on belong to this step (or it would be skipped, and why). */
  planStep?(title: string, skipped?: string): void;
  /** Warnings shown again at the end of the build (unsigned image, EOL release, skipped smoke test). */
  warnings: string[];
  /** Set once `pot create` has started, so cleanup knows to destroy the pot. */
  potCreated: boolean;
  /** Machine-readable summary (--json): steps add what they produced. */
  summary: Record<string, unknown>;
  /** Step durations in ms by title (--json). */
  durations: Record<string, number>;
  /** Folder pot export writes into; its files move to their final names only after the check step. */
  stagingDir?: string;
  /** The step that failed (named in the error message and the --json summary). */
  failedStep?: string;
  /** Set when SIGINT/SIGTERM stopped the build. */
  interrupted?: string;
  /** Final artifact paths that existed before this build started (never deleted by its cleanup). */
  preexisting?: string[];
  /** The release's place in FreeBSD's lifecycle on the build date (admitted before the build started). */
  lifecycle?: Lifecycle;
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
