// Pot names and tags become file names in the repository (and path segments of
// its URL), so they are checked before any file or network is touched.
import { checkPotName, checkTag } from '../input/names.js';

/** --pot: the one validator shared by every command (../input/names.ts). */
export function validatePotName(pot: string): void {
  checkPotName(pot);
}

/** --tag: publish orders tags (semver), so it needs MAJOR.MINOR.PATCH. */
export function validateTag(tag: string): void {
  checkTag(tag, '--tag', { semver: true });
}

/** The files of one image in the repository, in upload order (.skein last: it makes the tag visible). */
export interface ImageFileNames {
  xz: string;
  meta: string;
  sig: string;
  packages: string;
  skein: string;
}

export function imageFileNames(pot: string, tag: string): ImageFileNames {
  const base = `${pot}_${tag}`;
  return {
    xz: `${base}.xz`,
    meta: `${base}.xz.meta`,
    sig: `${base}.xz.skein.sig`,
    packages: `${base}.packages.json`,
    skein: `${base}.xz.skein`,
  };
}

/** Temporary names (each target's temporaryName) start with a dot, hidden from listings and
 *  from `pot-image serve`, and live in the same folder as the final name (atomic rename). */
export function isTemporaryOrHidden(name: string): boolean {
  return name.startsWith('.');
}
