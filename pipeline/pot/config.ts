import type { CommandRunner } from '../runner/types.js';
import { failureLine } from '../runner/execa-runner.js';
import { runPot } from './command.js';

export type PotConfigName = 'fs_root' | 'zfs_root' | 'gateway' | 'pot_prefix' | 'fscomp_prefix' | 'network_stack';

/** `pot config -q -g NAME`: prints just the value (an empty line when it is not set). */
export function configArgs(name: PotConfigName): string[] {
  return ['config', '-q', '-g', name];
}

export async function potConfig(runner: CommandRunner, name: PotConfigName): Promise<string | undefined> {
  const result = await readPotConfig(runner, name);
  return result.value;
}

/**
 * The value, or why pot could not answer. pot refuses every sub-command but
 * version (exit 1, "POT_FS_ROOT does not exist, please run 'pot init'") until
 * `pot init` has made its file-system root, so a failure here means "not
 * initialised", while exit 0 with an empty line means "not configured".
 */
export async function readPotConfig(runner: CommandRunner, name: PotConfigName): Promise<{ value?: string; failure?: string; planned?: boolean }> {
  const result = await runPot(runner, configArgs(name), { allowFailure: true });
  if (result.planned) return { planned: true };
  if (result.exitCode !== 0) return { failure: failureLine(result.stdout, result.stderr) || `pot config exited ${result.exitCode}` };
  const value = result.stdout.trim();
  return value ? { value } : {};
}

/** pot.default.conf's POT_FS_ROOT, used in a dry run where `pot config` answers nothing. */
export const DEFAULT_FS_ROOT = '/opt/pot';

/** The host path of a single-type pot's root file system. */
export function potRoot(fsRoot: string, name: string): string {
  return `${fsRoot.replace(/\/+$/, '')}/jails/${name}/m`;
}
