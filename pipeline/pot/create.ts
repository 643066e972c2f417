import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

export interface CreateOptions {
  name: string;
  /** What `-b` takes: "13.0". */
  release: string;
  /** pot network type (-N). */
  network: string;
  /** Flavours in the order pot runs them (-f each). */
  flavours: readonly string[];
}

/** `pot create -p NAME -t single -b RELEASE -N NETWORK -f F1 -f F2 ...` (only single pots can be exported). */
export function createArgs(o: CreateOptions): string[] {
  return ['create', '-p', o.name, '-t', 'single', '-b', o.release, '-N', o.network, ...o.flavours.flatMap((f) => ['-f', f])];
}

export function potCreate(runner: CommandRunner, o: CreateOptions, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, createArgs(o), { purpose: `create the pot ${o.name}`, ...options });
}
