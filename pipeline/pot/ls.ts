import type { CommandRunner } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot ls -q`: one pot name per line. */
export function lsArgs(): string[] {
  return ['ls', '-q'];
}

export async function potList(runner: CommandRunner): Promise<string[]> {
  const result = await runPot(runner, lsArgs(), { purpose: 'list the pots' });
  return result.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}
