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

/** `pot info -p NAME -E`: `export _POT_IP=…` lines. */
export function infoEnvArgs(name: string): string[] {
  return ['info', '-p', name, '-E'];
}

/** `_POT_IP` from `pot info -E` output (empty for network type inherit). */
export function parsePotIp(infoEnvOutput: string): string | undefined {
  for (const line of infoEnvOutput.split('\n')) {
    const m = /^\s*(?:export\s+)?_POT_IP=["']?([^"'\s]*)["']?\s*$/.exec(line);
    if (m) return m[1] || undefined;
  }
  return undefined;
}
