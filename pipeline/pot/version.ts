import semver from 'semver';
import type { CommandRunner } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot version -q`: prints just the version, e.g. "0.16.0". */
export function versionArgs(): string[] {
  return ['version', '-q'];
}

/**
 * The oldest pot the build works with: `pot exec` (the smoke test's in-jail
 * registration) came with 0.15.0; the export's .meta file with 0.13.0.
 */
export const MIN_POT_VERSION = '0.15.0';

/** Why this pot is too old for the build, or undefined when it is new enough (or unparseable). */
export function potTooOld(version: string): string | undefined {
  const v = semver.coerce(version);
  if (!v || semver.gte(v, MIN_POT_VERSION)) return undefined;
  return `pot ${version} is older than ${MIN_POT_VERSION} (the build needs pot exec and export's .meta file)`;
}

/** pot's version, or undefined when pot is missing or broken. */
export async function potVersion(runner: CommandRunner): Promise<string | undefined> {
  try {
    const result = await runPot(runner, versionArgs(), { allowFailure: true });
    if (result.exitCode !== 0) return undefined;
    return result.stdout.trim().replace(/^pot version:\s*/, '');
  } catch {
    return undefined; // not installed (the runner throws on ENOENT)
  }
}

/** pot's version as preflight needs it: `known` is false when the plan recorded the probe without an answer. */
export async function readPotVersion(runner: CommandRunner): Promise<{ known: boolean; value?: string }> {
  try {
    const result = await runPot(runner, versionArgs(), { allowFailure: true });
    if (result.planned) return { known: false };
    if (result.exitCode !== 0) return { known: true };
    return { known: true, value: result.stdout.trim().replace(/^pot version:\s*/, '') };
  } catch {
    return { known: true }; // not installed (the runner throws on ENOENT)
  }
}
