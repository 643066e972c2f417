import type { CommandRunner } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot version -q`: prints just the version, e.g. "0.16.0". */
export function versionArgs(): string[] {
  return ['version', '-q'];
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
