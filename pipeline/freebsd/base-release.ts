// Where a FreeBSD release's base.txz lives and how pot checks it
// (share/pot/common.sh `_fetch_freebsd_internal`, pot 0.16.1): pot fetches
// https://ftp.freebsd.org/pub/FreeBSD/releases/<machine>/<arch>/<N.M>-RELEASE/base.txz
// into POT_CACHE as <N.M>-RELEASE_base.txz, unless that file is already there,
// and compares its sha256 with the `base.txz` line of
// /usr/local/share/freebsd/MANIFESTS/<machine>-<arch>-<N.M>-RELEASE. Releases past
// their end of life move to ftp-archive.freebsd.org, which pot never asks.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** pot.default.conf's POT_CACHE. */
export const POT_CACHE = '/var/cache/pot';
export const MANIFESTS_DIR = '/usr/local/share/freebsd/MANIFESTS';
export const RELEASES_URL = 'https://ftp.freebsd.org/pub/FreeBSD/releases';
export const ARCHIVE_URL = 'https://ftp-archive.freebsd.org/pub/FreeBSD-Archive/old-releases';

/**
 * The builder's file system root for the files preflight reads in-process
 * (MANIFESTS, pot's cache, /etc/resolv.conf): "/" on a builder; tests point
 * POT_IMAGE_HOST_ROOT at a folder that plays the builder's.
 */
export function hostRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.POT_IMAGE_HOST_ROOT || '/';
}

export function onHost(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const root = hostRoot(env);
  return root === '/' ? path : join(root, path);
}

export interface BaseLocation {
  /** <N.M>-RELEASE */
  name: string;
  /** Where pot keeps it: /var/cache/pot/<N.M>-RELEASE_base.txz */
  cacheFile: string;
  /** The MANIFEST pot compares it with. */
  manifest: string;
  /** Where pot downloads it from (supported releases). */
  url: string;
  /** Where FreeBSD keeps it after the end of life. */
  archiveUrl: string;
}

/** machine: hw.machine (amd64, arm64); processor: hw.machine_arch (amd64, aarch64). */
export function baseLocation(potRelease: string, machine: string, processor: string): BaseLocation {
  const name = `${potRelease}-RELEASE`;
  return {
    name,
    cacheFile: `${POT_CACHE}/${name}_base.txz`,
    manifest: `${MANIFESTS_DIR}/${machine}-${processor}-${name}`,
    url: `${RELEASES_URL}/${machine}/${processor}/${name}/base.txz`,
    archiveUrl: `${ARCHIVE_URL}/${machine}/${processor}/${name}/base.txz`,
  };
}

/** The sha256 of base.txz in a MANIFEST (tab-separated: file, sha256, count, dist, description, default). */
export function manifestSha256(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const [file, sha] = line.split('\t');
    if (file === 'base.txz' && sha && /^[0-9a-f]{64}$/.test(sha)) return sha;
  }
  return undefined;
}

/** The MANIFEST's base.txz sha256 on this builder, or why there is none. */
export function readManifestSha256(manifest: string, env: NodeJS.ProcessEnv = process.env): { sha?: string; problem?: string } {
  const file = onHost(manifest, env);
  if (!existsSync(file)) return { problem: `${manifest} is missing (pot refuses the release without it): pkg install freebsd-release-manifests, or pkg upgrade it` };
  const sha = manifestSha256(readFileSync(file, 'utf8'));
  return sha ? { sha } : { problem: `${manifest} has no base.txz line with a sha256` };
}
