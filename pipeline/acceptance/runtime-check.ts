// The runtime check before export: inside the built pot's root (chroot, the
// pot itself is never started), every program the image installed must run.
// Packages built for a newer minor than the jail's userland install fine and
// fail here, with the package named and its error.
import { UserError } from '../errors.js';
import type { CommandRunner } from '../runner/types.js';

/** Where install_cook puts the image's helper (flavours/…​.d/libexec/runtime-check). */
export const RUNTIME_CHECK = '/usr/local/libexec/matrix-synapse-nomad/runtime-check';

/** `chroot ROOT runtime-check` */
export function runtimeCheckArgs(root: string): string[] {
  return [root, RUNTIME_CHECK];
}

export interface RuntimeLine { ok: boolean; origin: string; detail: string }

/** The helper prints `ok   ORIGIN: detail` or `FAIL ORIGIN: detail`, one line per program. */
export function parseRuntimeCheck(stdout: string): RuntimeLine[] {
  const out: RuntimeLine[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(ok|FAIL)\s+([^:\s]+):\s*(.*)$/.exec(line.trim());
    if (m) out.push({ ok: m[1] === 'ok', origin: m[2]!, detail: m[3]! });
  }
  return out;
}

/** The programs' lines, or undefined when the runner only planned the check (--dry-run). */
export async function runRuntimeCheck(runner: CommandRunner, root: string, release: string): Promise<RuntimeLine[] | undefined> {
  const r = await runner.run('chroot', runtimeCheckArgs(root), { allowFailure: true, purpose: 'check that the installed programs run (python imports synapse and ldap_auth_provider, nginx -v, acme.sh --version)' });
  if (r.planned) return undefined;
  const lines = parseRuntimeCheck(r.stdout);
  const failed = lines.filter((l) => !l.ok);
  if (r.exitCode !== 0 || failed.length > 0) {
    const what = failed.length
      ? failed.map((l) => `${l.origin}: ${l.detail}`).join('; ')
      : `${RUNTIME_CHECK} exited ${r.exitCode}${r.stderr.trim() ? ` (${r.stderr.trim().split('\n').pop()})` : ''}`;
    throw new UserError(`programs of the image do not run on its FreeBSD ${release} userland: ${what}; packages built for a newer minor than the jail's fail like this, so build a supported release`);
  }
  return lines;
}
