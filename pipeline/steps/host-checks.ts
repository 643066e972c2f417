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

/**
 * The jail's DNS: pot's default (dns=inherit) copies the host's /etc/resolv.conf into a
 * bridged jail, where a loopback nameserver is the jail's own loopback. Undefined when
 * at least one nameserver is reachable from the jail.
 */
export function resolvConfProblem(text: string): { what: string; fix: string } | undefined {
  const servers = text.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((x): x is string => Boolean(x));
  const loopback = (a: string) => /^127\./.test(a) || a === '::1' || a === '0.0.0.0';
  if (servers.some((a) => !loopback(a))) return undefined;
  const fix = "name a resolver the jail can reach in /etc/resolv.conf (the router's or your DNS server's address), or make local_unbound listen on the bridge's address (pot config -g gateway) and name that";
  if (servers.length === 0) return { what: '/etc/resolv.conf names no nameserver, so the jail has no DNS and pkg fails inside it', fix };
  return { what: `/etc/resolv.conf names only ${servers.join(', ')}, which inside a bridged jail is the jail itself: the jail has no DNS and pkg fails inside it`, fix };
}
