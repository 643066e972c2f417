// The package repository a jail of a given release will use: its ABI, the
// name /etc/pkg/FreeBSD.conf gives it, the origins the flavour installs, and
// the pkg commands that ask the repository from the builder before anything
// is created (pkg -o ABI=… with a scratch REPOS_DIR/PKG_DBDIR, so the host's
// own pkg state is never touched).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { portsRepositoryName } from '../definition/freebsd-releases.js';

/** pkg's ABI string: FreeBSD:<major>:<hw.machine_arch> (amd64, aarch64). */
export function abiOf(major: number, arch: string): string {
  return `FreeBSD:${major}:${arch === 'arm64' ? 'aarch64' : arch}`;
}

export { portsRepositoryName };

/** The first repository an /etc/pkg/FreeBSD.conf defines (`NAME: { … }`). */
export function repositoryNameIn(pkgConf: string): string | undefined {
  for (const line of pkgConf.split('\n')) {
    const m = /^\s*"?([A-Za-z0-9_-]+)"?\s*:\s*\{/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** The origins the flavour's build script installs (its ORIGINS="…" line). */
export function flavourOrigins(sourceDir: string, flavour: string): string[] {
  const script = join(sourceDir, `${flavour}.sh`);
  if (!existsSync(script)) return [];
  const m = /^ORIGINS="([^"]*)"/m.exec(readFileSync(script, 'utf8'));
  return m ? m[1]!.split(/\s+/).filter(Boolean) : [];
}

/** A repository configuration like the base system's, for the scratch REPOS_DIR. */
export function repositoryConf(name: string, branch = 'quarterly'): string {
  return `${name}: {\n  url: "pkg+https://pkg.FreeBSD.org/\${ABI}/${branch}",\n  mirror_type: "srv",\n  signature_type: "fingerprints",\n  fingerprints: "/usr/share/keys/pkg",\n  enabled: yes\n}\n`;
}

/** Global pkg options that point it at the jail's ABI and a scratch state folder. */
export function pkgScratchOptions(abi: string, scratch: string): string[] {
  return ['-o', `ABI=${abi}`, '-o', 'IGNORE_OSVERSION=yes', '-o', `REPOS_DIR=${scratch}/repos`, '-o', `PKG_DBDIR=${scratch}/db`, '-o', `PKG_CACHEDIR=${scratch}/cache`];
}

export function pkgUpdateArgs(abi: string, scratch: string, repo: string): string[] {
  return [...pkgScratchOptions(abi, scratch), 'update', '-q', '-r', repo];
}

/** `pkg rquery -U -r REPO -e '%o == ORIGIN' '%n-%v'`: prints the package, nothing when the origin is missing. */
export function pkgRqueryOriginArgs(abi: string, scratch: string, repo: string, origin: string): string[] {
  return [...pkgScratchOptions(abi, scratch), 'rquery', '-U', '-r', repo, '-e', `%o == ${origin}`, '%n-%v'];
}
