// The pot adapter: one file per pot sub-command, each with a pure argv
// builder (unit-tested, reused by the plan) and a run function that goes
// through the CommandRunner. This file holds what they share.
import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';

/** The pot executable; resolved through PATH (tests put a stand-in first). */
export const POT = 'pot';

export function runPot(runner: CommandRunner, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runner.run(POT, args, options);
}
