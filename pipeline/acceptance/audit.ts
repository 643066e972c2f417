// The vulnerability audit: `pkg audit -F --raw=json` on the host for exactly
// the image's packages (NAME-VERSION arguments), so neither the image's own
// pkg database nor network access inside a jail is needed. Vulnerable packages
// fail the build unless allow-listed (with a reason) and not expired.
import { UserError } from '../errors.js';
import type { CommandRunner } from '../runner/types.js';
import type { PackageEntry } from './package-manifest.js';
import { PKG } from './package-manifest.js';
import type { AuditAllowance } from './settings.js';

export interface Vulnerability {
  package: string;
  version: string;
  /** VuXML id (from the vuxml.FreeBSD.org link), else the first CVE. */
  id: string;
  cves: string[];
  url: string;
  description: string;
}

export interface AuditFinding extends Vulnerability {
  /** The allow-list entry that accepts it (not expired). */
  allowed?: { reason: string; expires: string };
}

export interface AuditReport {
  status: 'clean' | 'allowed' | 'vulnerable';
  checkedAt: string;
  findings: AuditFinding[];
  /** Allow-list entries past their date: they accept nothing. */
  expiredAllowances: AuditAllowance[];
  /** Allow-list entries that matched no finding (candidates for removal). */
  unusedAllowances: AuditAllowance[];
}

/** `pkg audit -F --raw=json NAME-VERSION…` (--raw came with pkg 1.16.0). */
export function pkgAuditArgs(packages: readonly PackageEntry[]): string[] {
  return ['audit', '-F', '--raw=json', ...packages.map((p) => `${p.name}-${p.version}`)];
}

/** Parse pkg's raw JSON: {pkg_count, packages: {NAME: {version, issues: [{cve, url, description}]}}}. */
export function parseAuditJson(stdout: string): Vulnerability[] {
  let doc: { pkg_count?: unknown; packages?: Record<string, { version?: string; issues?: { cve?: string[]; url?: string; description?: string }[] }> };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    throw new UserError(`pkg audit did not print JSON ('${stdout.trim().split('\n')[0]?.slice(0, 80) ?? ''}'); it needs pkg 1.16 or newer for --raw=json: run 'pkg upgrade pkg'`);
  }
  if (!doc || typeof doc !== 'object' || typeof doc.pkg_count !== 'number') {
    throw new UserError(`pkg audit printed JSON without pkg_count; expected pkg's --raw=json format`);
  }
  const out: Vulnerability[] = [];
  for (const [name, entry] of Object.entries(doc.packages ?? {})) {
    for (const issue of entry.issues ?? []) {
      const cves = Array.isArray(issue.cve) ? issue.cve.map(String) : [];
      const url = typeof issue.url === 'string' ? issue.url : '';
      const vid = /\/([^/]+)\.html$/.exec(url)?.[1];
      out.push({
        package: name,
        version: entry.version ?? '',
        id: vid ?? cves[0] ?? 'unknown',
        cves,
        url,
        description: (issue.description ?? '').replace(/\s+/g, ' ').trim(),
      });
    }
  }
  return out;
}

/** Today as YYYY-MM-DD in UTC. */
export function today(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

function matches(a: AuditAllowance, v: Vulnerability): boolean {
  const id = a.id.toLowerCase();
  return a.package === v.package && (id === v.id.toLowerCase() || v.cves.some((c) => c.toLowerCase() === id));
}

/** Apply the allow-list: entries count up to and including their expiry day. */
export function evaluateAudit(vulns: readonly Vulnerability[], allow: readonly AuditAllowance[], day: string, checkedAt = new Date().toISOString()): AuditReport {
  const valid = allow.filter((a) => a.expires >= day);
  const expired = allow.filter((a) => a.expires < day);
  const used = new Set<AuditAllowance>();
  const findings: AuditFinding[] = vulns.map((v) => {
    const a = valid.find((x) => matches(x, v));
    if (!a) return { ...v };
    used.add(a);
    return { ...v, allowed: { reason: a.reason, expires: a.expires } };
  });
  const blocking = findings.filter((f) => !f.allowed);
  return {
    status: blocking.length > 0 ? 'vulnerable' : findings.length > 0 ? 'allowed' : 'clean',
    checkedAt,
    findings,
    expiredAllowances: expired,
    unusedAllowances: valid.filter((a) => !used.has(a)),
  };
}

/** One line naming every blocking package, its vulnerability ids and links. */
export function auditFailureMessage(report: AuditReport): string {
  const blocking = report.findings.filter((f) => !f.allowed);
  const byPkg = new Map<string, AuditFinding[]>();
  for (const f of blocking) byPkg.set(`${f.package}-${f.version}`, [...(byPkg.get(`${f.package}-${f.version}`) ?? []), f]);
  const parts = [...byPkg].map(([pkg, fs]) => `${pkg}: ${fs.map((f) => `${[f.id, ...f.cves.filter((c) => c !== f.id)].join(' ')}${f.url ? ` <${f.url}>` : ''}`).join(', ')}`);
  const expired = report.expiredAllowances.length > 0 ? ` (expired allow-list entries do not count: ${report.expiredAllowances.map((a) => `${a.package} ${a.id} expired ${a.expires}`).join(', ')})` : '';
  return `${byPkg.size} vulnerable package(s): ${parts.join('; ')}${expired}; update the packages and rebuild, or accept a vulnerability in acceptance.audit_allow of the image definition with a reason and an expiry date`;
}

/** Warnings worth repeating at the end of the build. */
export function auditWarnings(report: AuditReport): string[] {
  const w: string[] = [];
  for (const a of report.expiredAllowances) {
    w.push(`audit allow-list entry for ${a.package} ${a.id} expired on ${a.expires} and no longer counts; renew it with a new date or remove it`);
  }
  for (const f of report.findings.filter((x) => x.allowed)) {
    w.push(`${f.package}-${f.version} is vulnerable (${f.id}${f.url ? ` <${f.url}>` : ''}) and shipped anyway: allow-listed until ${f.allowed!.expires} (${f.allowed!.reason})`);
  }
  return w;
}

/** Run the audit and apply the allow-list (does not throw for vulnerabilities; the caller decides). */
export async function runAudit(runner: CommandRunner, packages: readonly PackageEntry[], allow: readonly AuditAllowance[], now = new Date()): Promise<AuditReport> {
  if (packages.length === 0) throw new UserError('the image has no packages to audit; the flavour must install Synapse and its dependencies');
  // Exit 1 means "vulnerable" with JSON on stdout; anything else unparsable is a real failure.
  const result = await runner.run(PKG, pkgAuditArgs(packages), { allowFailure: true, purpose: 'audit the image packages' });
  if (result.exitCode !== 0 && result.stdout.trim() === '') {
    // A pkg older than 1.16 does not know --raw: getopt complains and pkg prints the usage.
    if (/unrecognized option|illegal option|usage: pkg audit/i.test(result.stderr)) {
      throw new UserError(`this builder's pkg does not know 'pkg audit --raw=json' (added in pkg 1.16.0); run 'pkg upgrade pkg'`);
    }
    const why = (result.stderr.trim().split('\n').slice(-1)[0] ?? '').trim();
    throw new UserError(`'pkg audit -F' exited ${result.exitCode}${why ? ` (${why})` : ''}; check the builder can fetch the vulnerability database (VULNXML_SITE in pkg.conf)`);
  }
  return evaluateAudit(parseAuditJson(result.stdout), allow, today(now), now.toISOString());
}
