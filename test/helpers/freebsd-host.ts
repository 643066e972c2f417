// A folder that plays a FreeBSD builder's / for the stand-ins and preflight
// (POT_IMAGE_HOST_ROOT): freebsd-release-manifests' MANIFESTS, pot's cache of
// base.txz, /etc/resolv.conf; and a "mirror" folder (POT_STANDIN_MIRROR) that
// is the only network the fetch and pot stand-ins can reach.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tmp.js';

export interface FreeBsdHost {
  root: string;
  mirror: string;
  env: Record<string, string>;
  /** A base.txz for RELEASE (a real tar.xz holding ./etc/pkg/FreeBSD.conf naming REPO) and its sha256. */
  base(release: string, repo?: string): { file: string; sha: string };
  /** The MANIFEST freebsd-release-manifests ships for RELEASE, with SHA for base.txz. */
  manifest(release: string, sha: string): void;
  /** Put a base into pot's cache. */
  cache(release: string, file: string): void;
  /** Make URL answer with FILE. */
  serve(url: string, file: string): void;
}

const repoFor = (release: string) => (Number(release.split('.')[0]) >= 15 ? 'FreeBSD-ports' : 'FreeBSD');

export function freebsdHost(options: { resolv?: string } = {}): FreeBsdHost {
  const root = tempDir('fbsd-host-');
  const mirror = tempDir('fbsd-mirror-');
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'resolv.conf'), options.resolv ?? 'search example.org\nnameserver 192.0.2.53\n');
  const host: FreeBsdHost = {
    root,
    mirror,
    env: { POT_IMAGE_HOST_ROOT: root, POT_STANDIN_MIRROR: mirror },
    base(release, repo = repoFor(release)) {
      const dir = tempDir('fbsd-base-');
      mkdirSync(join(dir, 'tree', 'etc', 'pkg'), { recursive: true });
      writeFileSync(join(dir, 'tree', 'etc', 'pkg', 'FreeBSD.conf'), `# $FreeBSD$\n${repo}: {\n  url: "pkg+https://pkg.FreeBSD.org/\${ABI}/quarterly",\n  mirror_type: "srv",\n  signature_type: "fingerprints",\n  fingerprints: "/usr/share/keys/pkg",\n  enabled: yes\n}\n`);
      writeFileSync(join(dir, 'tree', 'etc', 'release'), `${release}-RELEASE\n`);
      const file = join(dir, 'base.txz');
      execFileSync('tar', ['-cJf', file, '-C', join(dir, 'tree'), './etc']);
      return { file, sha: createHash('sha256').update(readFileSync(file)).digest('hex') };
    },
    manifest(release, sha) {
      const dir = join(root, 'usr', 'local', 'share', 'freebsd', 'MANIFESTS');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `amd64-amd64-${release}-RELEASE`), `base-dbg.txz\t${'0'.repeat(64)}\t1\tbase_dbg\t"Base system (Debugging)"\toff\nbase.txz\t${sha}\t26\tbase\t"Base system (MANDATORY)"\ton\n`);
    },
    cache(release, file) {
      const dir = join(root, 'var', 'cache', 'pot');
      mkdirSync(dir, { recursive: true });
      copyFileSync(file, join(dir, `${release}-RELEASE_base.txz`));
    },
    serve(url, file) {
      const target = join(mirror, url.replace(/^[a-z]+:\/\//, ''));
      mkdirSync(join(target, '..'), { recursive: true });
      copyFileSync(file, target);
    },
  };
  return host;
}

/** A host where RELEASES are known (MANIFEST) and cached: what a prepared builder has after its first build. */
export function preparedHost(releases: string[] = ['13.0', '14.3', '14.5', '15.1'], options: { resolv?: string } = {}): FreeBsdHost {
  const host = freebsdHost(options);
  for (const r of releases) {
    const b = host.base(r);
    host.manifest(r, b.sha);
    host.cache(r, b.file);
  }
  return host;
}
