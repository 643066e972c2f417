import type { CommandRunner } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot info -q -p NAME`: exits 0 when NAME is a pot, 1 when it is not. */
export function infoArgs(name: string): string[] {
  return ['info', '-q', '-p', name];
}

/** Whether a pot of that name exists (in a dry run: yes, so the plan shows what follows). */
export async function potExists(runner: CommandRunner, name: string): Promise<boolean> {
  const result = await runPot(runner, infoArgs(name), { allowFailure: true });
  return result.exitCode === 0;
}
