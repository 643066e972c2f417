import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot set-env -p NAME -E K=V …` (replaces the pot's whole environment). */
export function setEnvArgs(name: string, env: Record<string, string>): string[] {
  return ['set-env', '-p', name, ...Object.entries(env).flatMap(([k, v]) => ['-E', `${k}=${v}`])];
}

export function potSetEnv(runner: CommandRunner, name: string, env: Record<string, string>, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, setEnvArgs(name, env), { purpose: `set the environment of ${name}`, ...options });
}
