import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot mount-in -p NAME -d DIR -m MOUNTPOINT [-r]` (DIR absolute, must exist). */
export function mountInArgs(name: string, dir: string, mountpoint: string, readOnly = false): string[] {
  return ['mount-in', '-p', name, '-d', dir, '-m', mountpoint, ...(readOnly ? ['-r'] : [])];
}

export function potMountIn(runner: CommandRunner, name: string, dir: string, mountpoint: string, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, mountInArgs(name, dir, mountpoint), { purpose: `mount ${dir} at ${mountpoint} in ${name}`, ...options });
}
