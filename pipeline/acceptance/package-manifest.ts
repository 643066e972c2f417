// What is inside the image: every package (name, origin, version) queried from
// the built pot's root with `pkg -c`, written as `<pot>_<tag>.packages.json`
// together with the audit result and the input fingerprint.
import { UserError } from '../errors.js';
import type { CommandRunner } from '../runner/types.js';
import type { AuditReport } from './audit.js';

export const PKG = 'pkg';

export interface PackageEntry { name: string; origin: string; version: string }

export interface PackagesManifest {
  /** Format of this file; bump on incompatible changes. */
  schema: 1;
  pot: string;
  tag: string;
  freebsd: { release: string; arch: string };
  createdAt: string;
  /** What the image was built from; a later build with the same fingerprint is a rebuild. */
  inputs: { fingerprint: string };
  packages: PackageEntry[];
  audit: AuditReport;
  smokeTest: { status: 'passed' | 'skipped'; checks?: { check: string; detail: string }[] };
}

/** pkg's format: `\t` is expanded by pkg itself (pkg_printf escapes). */
export const QUERY_FORMAT = '%n\\t%o\\t%v';

/** `pkg -c ROOT query '%n\t%o\t%v'`: runs pkg chrooted into the pot's root, so the image need not run. */
export function pkgQueryArgs(root: string): string[] {
  return ['-c', root, 'query', QUERY_FORMAT];
}

export function parsePkgQuery(stdout: string): PackageEntry[] {
  const out: PackageEntry[] = [];
  for (const [i, line] of stdout.split('\n').entries()) {
    if (line.trim() === '') continue;
    const parts = line.split('\t');
    if (parts.length !== 3 || parts.some((p) => p.trim() === '')) {
      throw new UserError(`pkg query printed an unexpected line ${i + 1} ('${line.slice(0, 80)}'); expected name<TAB>origin<TAB>version`);
    }
    out.push({ name: parts[0]!.trim(), origin: parts[1]!.trim(), version: parts[2]!.trim() });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function queryPackages(runner: CommandRunner, root: string): Promise<PackageEntry[]> {
  const result = await runner.run(PKG, pkgQueryArgs(root), { purpose: 'list the packages of the image' });
  return parsePkgQuery(result.stdout);
}

/** The manifest file's text (the host writes it under a temporary name and renames it into place). */
export function manifestText(manifest: PackagesManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export interface ManifestDiff {
  added: PackageEntry[];
  removed: PackageEntry[];
  changed: { name: string; origin: string; from: string; to: string }[];
}

/** Packages are matched by origin (names change with the Python version: py39- → py311-). */
export function diffManifests(before: readonly PackageEntry[], after: readonly PackageEntry[]): ManifestDiff {
  const key = (p: PackageEntry) => p.origin || p.name;
  const old = new Map(before.map((p) => [key(p), p]));
  const now = new Map(after.map((p) => [key(p), p]));
  const diff: ManifestDiff = { added: [], removed: [], changed: [] };
  for (const [k, p] of now) {
    const o = old.get(k);
    if (!o) diff.added.push(p);
    else if (o.version !== p.version || o.name !== p.name) {
      diff.changed.push({ name: p.name, origin: p.origin, from: o.name === p.name ? o.version : `${o.name}-${o.version}`, to: p.version });
    }
  }
  for (const [k, p] of old) if (!now.has(k)) diff.removed.push(p);
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  diff.added.sort(byName);
  diff.removed.sort(byName);
  diff.changed.sort(byName);
  return diff;
}

export function formatDiff(diff: ManifestDiff, fromTag: string, toTag: string): string[] {
  const lines = [`packages ${fromTag} → ${toTag}: ${diff.changed.length} changed, ${diff.added.length} added, ${diff.removed.length} removed`];
  for (const c of diff.changed) lines.push(`  ~ ${c.name} (${c.origin}) ${c.from} → ${c.to}`);
  for (const a of diff.added) lines.push(`  + ${a.name} (${a.origin}) ${a.version}`);
  for (const r of diff.removed) lines.push(`  - ${r.name} (${r.origin}) ${r.version}`);
  if (lines.length === 1) lines.push('  (no package changed)');
  return lines;
}
