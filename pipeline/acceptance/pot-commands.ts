// argv of the pot sub-commands the smoke test uses, as pot 0.16's share/pot/*.sh
// parse them. Pure functions, so the plan and the tests see exactly what runs.

export const POT = 'pot';

/** `pot clone -P BASE -p NEW [-i IP]`: a zfs clone of BASE's last snapshot; no -i lets pot pick (bridges). */
export function cloneArgs(base: string, name: string, ip?: string): string[] {
  return ['clone', '-P', base, '-p', name, ...(ip ? ['-i', ip] : [])];
}

/** `pot set-attribute -p NAME -A ATTR -V VALUE` */
export function setAttributeArgs(name: string, attr: string, value: string): string[] {
  return ['set-attribute', '-p', name, '-A', attr, '-V', value];
}

/** `pot set-cmd -p NAME -c CMD` */
export function setCmdArgs(name: string, cmd: string): string[] {
  return ['set-cmd', '-p', name, '-c', cmd];
}

/** `pot mount-in -p NAME -d DIR -m MOUNTPOINT` (DIR absolute, must exist). */
export function mountInArgs(name: string, dir: string, mountpoint: string): string[] {
  return ['mount-in', '-p', name, '-d', dir, '-m', mountpoint];
}

/** `pot set-env -p NAME -E K=V …` (replaces the pot's whole environment). */
export function setEnvArgs(name: string, env: Record<string, string>): string[] {
  return ['set-env', '-p', name, ...Object.entries(env).flatMap(([k, v]) => ['-E', `${k}=${v}`])];
}

/** `pot info -p NAME -E`: `export _POT_IP=…` lines. */
export function infoEnvArgs(name: string): string[] {
  return ['info', '-p', name, '-E'];
}

/** `pot start -p NAME`: for a non-persistent pot this blocks until the start command exits. */
export function startArgs(name: string): string[] {
  return ['start', '-p', name];
}

export function stopArgs(name: string): string[] {
  return ['stop', '-p', name];
}

/** `pot destroy -F -p NAME`: -F stops it first if it still runs. */
export function destroyArgs(name: string): string[] {
  return ['destroy', '-F', '-p', name];
}

/** `pot exec -p NAME CMD…` (the pot must be running). */
export function execArgs(name: string, command: readonly string[]): string[] {
  return ['exec', '-p', name, ...command];
}

/** `pot config -q -g fs_root`: pot's file-system root (pots live in FS_ROOT/jails/NAME/m). */
export function fsRootArgs(): string[] {
  return ['config', '-q', '-g', 'fs_root'];
}

/** pot.default.conf's POT_FS_ROOT, used in a dry run where `pot config` answers nothing. */
export const DEFAULT_FS_ROOT = '/opt/pot';

/** The host path of a single-type pot's root file system. */
export function potRoot(fsRoot: string, name: string): string {
  return `${fsRoot.replace(/\/+$/, '')}/jails/${name}/m`;
}

/** `_POT_IP` from `pot info -E` output (empty for network type inherit). */
export function parsePotIp(infoEnvOutput: string): string | undefined {
  for (const line of infoEnvOutput.split('\n')) {
    const m = /^\s*(?:export\s+)?_POT_IP=["']?([^"'\s]*)["']?\s*$/.exec(line);
    if (m) return m[1] || undefined;
  }
  return undefined;
}
