import type { CommandRunner, RunOptions } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot ls -q`: one pot name per line (nothing at all when there is no pot). */
export function lsArgs(): string[] {
  return ['ls', '-q'];
}

export async function potList(runner: CommandRunner, options: RunOptions = {}): Promise<string[]> {
  const result = await runPot(runner, lsArgs(), { purpose: 'list the pots', ...options });
  if (result.exitCode !== 0) return []; // only with allowFailure (e.g. pot not initialised, reported elsewhere)
  return result.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}
