// Paths in the pot task's `copy`, `mount` and `mount_read_only` lists ("host:jail").
// nomad-pot-driver turns each entry into a `pot copy-in -s SRC -d DEST` (or mount-in)
// command line that the Nomad client runs with `sh -c` (driver/prepare.go and pot.go;
// before 0.10.0 without any quoting), and splits the entry at its first ':' (copy) or at
// every ':' (mount). So a path reaches the client's shell: it gets the same rules as a
// --params value (no white space, no shell metacharacter), no ':', and must be absolute
// (pot copy-in runs on the client, from the Nomad agent's working folder).
import { InputError } from '../errors.js';
import { unsafeInEnv } from './params-file.js';

/** Why `path` cannot be one side of a driver copy/mount entry, or null when it can. */
export function hostPathProblem(path: string): string | null {
  if (path === '') return 'is empty';
  if (path.includes(':')) return "contains ':', where the pot driver splits host from jail path";
  if (unsafeInEnv(path)) return "contains white space or a shell metacharacter ($ ` \\ \" ' ; & | < > ( ) * ? [ ] { } ~ # !), which the pot driver's sh -c would split or run";
  if (!path.startsWith('/')) return 'is not an absolute path';
  return null;
}

/** --control-key FILE: a host path that goes into `copy`; InputError (exit 2) naming the rule it breaks. */
export function checkControlKey(path: string): string {
  const problem = hostPathProblem(path);
  // JSON.stringify: a newline or control character is shown, not printed.
  if (problem) throw new InputError(`--control-key: ${JSON.stringify(path)} ${problem}; give an absolute path of letters, digits, '/', '.', '_', '-' (e.g. /root/.ssh/id_ed25519.pub)`);
  return path;
}

/** The problem with one "host:jail" entry of `option`, or null. */
export function driverEntryProblem(option: string, raw: string): string | null {
  // Nomad interpolates ${NOMAD_TASK_DIR} and the like before the driver sees the entry: judge the rest.
  const entry = raw.replace(/\$\{[^}]*\}/g, '/nomad');
  const split = entry.indexOf(':');
  if (split === -1) return `${option} entry ${JSON.stringify(raw)} has no ':'; write "HOST_PATH:JAIL_PATH"`;
  const parts = option === 'copy' ? [entry.slice(0, split), entry.slice(split + 1)] : entry.split(':');
  if (parts.length !== 2) return `${option} entry ${JSON.stringify(raw)} has more than one ':', and the pot driver splits at every one; use paths without ':'`;
  for (const [side, path] of [['host', parts[0]!], ['jail', parts[1]!]] as const) {
    const problem = hostPathProblem(path);
    if (problem) return `${option} entry ${JSON.stringify(raw)}: the ${side} path ${problem}; the pot driver runs it through the Nomad client's shell`;
  }
  return null;
}
