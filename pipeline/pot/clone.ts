import type { CommandRunner, RunOptions, RunResult } from '../runner/types.js';
import { runPot } from './command.js';

/** `pot clone -P BASE -p NEW [-i IP]`: a zfs clone of BASE's last snapshot; no -i lets pot pick (bridges). */
export function cloneArgs(base: string, name: string, ip?: string): string[] {
  return ['clone', '-P', base, '-p', name, ...(ip ? ['-i', ip] : [])];
}

export function potClone(runner: CommandRunner, base: string, name: string, ip?: string, options: RunOptions = {}): Promise<RunResult> {
  return runPot(runner, cloneArgs(base, name, ip), { purpose: `clone ${base} as ${name}`, ...options });
}
