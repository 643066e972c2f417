import type { CommandRunner } from '../runner/types.js';
import { runPot } from './command.js';

export type PotConfigName = 'fs_root' | 'zfs_root' | 'gateway' | 'pot_prefix' | 'fscomp_prefix' | 'network_stack';

/** `pot config -q -g NAME`: prints just the value. */
export function configArgs(name: PotConfigName): string[] {
  return ['config', '-q', '-g', name];
}

export async function potConfig(runner: CommandRunner, name: PotConfigName): Promise<string | undefined> {
  const result = await runPot(runner, configArgs(name), { allowFailure: true });
  return result.exitCode === 0 ? result.stdout.trim() || undefined : undefined;
}
