import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot set-cmd -p NAME -c CMD` (pot drops one pair of surrounding double quotes). */
export function setCmdArgs(name: string, cmd: string): string[] {
  return ['set-cmd', '-p', name, '-c', cmd];
}

export function potSetCmd(runner: CommandRunner, name: string, cmd: string, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, setCmdArgs(name, cmd), { purpose: `set the start command of ${name}`, ...options });
}
