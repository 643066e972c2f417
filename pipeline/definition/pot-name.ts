import { InputError } from '../errors.js';

const RELEASE = /^(\d+)\.(\d+)(?:-RELEASE)?(?:-p\d+)?$/;

export interface ParsedRelease { major: number; minor: number; potRelease: string }

/** "13.0", "13.0-RELEASE", "14.3-p2" → major/minor and what `pot create -b` takes ("13.0"). */
export function parseRelease(value: unknown, field = 'freebsd.release'): ParsedRelease {
  const text = typeof value === 'number' ? value.toFixed(1) : String(value ?? '');
  const m = RELEASE.exec(text);
  if (!m) {
    throw new InputError(`${field}: '${text}' is not a FreeBSD release; use N.M, optionally with -RELEASE or -pN (e.g. 13.0, 14.3-RELEASE)`);
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return { major, minor, potRelease: `${major}.${minor}` };
}

/** `<flavour>-<arch>-<major>_<minor>`: 13.0 → matrix-synapse-nomad-amd64-13_0. */
export function potName(flavour: string, arch: string, release: ParsedRelease): string {
  return `${flavour}-${arch}-${release.major}_${release.minor}`;
}

/** The local name `pot import` gives an image: NAME_TAG with every '.' turned into '_'. */
export function importedPotName(pot: string, tag: string): string {
  return `${pot}_${tag}`.replace(/\./g, '_');
}
