// Pure interpretation of what the preflight commands print, kept apart from
// the task so each rule is unit-tested without a FreeBSD host.

export const GiB = 1024 ** 3;
/** A FreeBSD base, the packages and the build's working copy. */
export const MIN_POT_ROOT_BYTES = 4 * GiB;
/** Room for the compressed image (~0.3-1 GiB) and its side files. */
export const MIN_OUTPUT_BYTES = 1 * GiB;

export interface HostInfo { system: string; release: string; machine: string; processor: string }

/** `uname -s -r -m -p` → "FreeBSD 14.3-RELEASE amd64 amd64". */
export function parseUname(stdout: string): HostInfo {
  const [system = '', release = '', machine = '', processor = ''] = stdout.trim().split(/\s+/);
  return { system, release, machine, processor };
}

/** Major version of a uname -r / release string ("14.3-RELEASE-p2" → 14). */
export function majorOf(release: string): number {
  const m = /^(\d+)\./.exec(release);
  return m ? Number(m[1]) : NaN;
}

/** `zfs list -H -p -o name,avail DATASET` → bytes available, or undefined when unparseable. */
export function parseZfsAvail(stdout: string): number | undefined {
  const fields = stdout.trim().split('\n')[0]?.split('\t') ?? [];
  const n = Number(fields[1]);
  return fields.length >= 2 && Number.isFinite(n) ? n : undefined;
}

/** `df -P -k DIR` → bytes available (4th column of the second line). */
export function parseDfAvail(stdout: string): number | undefined {
  const line = stdout.trim().split('\n')[1];
  const n = Number(line?.trim().split(/\s+/)[3]);
  return line && Number.isFinite(n) ? n * 1024 : undefined;
}

/** The manifest file name pot looks for: <hw.machine>-<hw.machine_arch>-<N.M>-RELEASE. */
export function manifestName(machine: string, processor: string, potRelease: string): string {
  return `${machine}-${processor}-${potRelease}-RELEASE`;
}

/**
 * Releases listed by `pkg info -l freebsd-release-manifests` for this machine ("13.0", "14.3", ...),
 * in version order like pot's own list (`sort -V`), not pkg's alphabetical file order.
 */
export function knownReleases(pkgList: string, machine: string, processor: string): string[] {
  const prefix = `${machine}-${processor}-`;
  const out: string[] = [];
  for (const line of pkgList.split('\n')) {
    const file = line.trim().split('/').pop() ?? '';
    if (file.startsWith(prefix) && file.endsWith('-RELEASE')) out.push(file.slice(prefix.length, -'-RELEASE'.length));
  }
  const num = (r: string) => r.split('.').map(Number);
  return out.sort((a, b) => num(a)[0]! - num(b)[0]! || num(a)[1]! - num(b)[1]!);
}

export function formatBytes(n: number): string {
  return n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;
}

/** End-of-life note for a FreeBSD release, or undefined while it is supported. */
export function eolWarning(major: number, minor: number, today = new Date()): string | undefined {
  const release = `${major}.${minor}`;
  const advice = 'its base, updates and packages may no longer be downloadable; build a supported release, e.g. --release 14.3';
  if (major < 13) return `FreeBSD ${release} is end-of-life: ${advice}`;
  if (major === 13) {
    const branchEnd = new Date('2026-04-30T00:00:00Z');
    const since = minor === 0 ? '2022' : today >= branchEnd ? '2026-04-30 (the whole 13 branch)' : undefined;
    if (since) return `FreeBSD ${release} is end-of-life since ${since}: ${advice}`;
    return `FreeBSD ${release}: the whole 13 branch reaches end-of-life on 2026-04-30; plan a move to 14.3`;
  }
  return undefined;
}
