// Pot names and tags become file names in the repository (and path segments of
// its URL), so they are checked before any file or network is touched.
import { randomBytes } from 'node:crypto';
import semver from 'semver';
import { InputError } from '../errors.js';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

function checkSegment(value: string, what: string, option: string): void {
  const shown = JSON.stringify(value);
  if (value === '') throw new InputError(`${option}: the ${what} is empty; give a name such as matrix-synapse-nomad-amd64-13_0`);
  if (value.includes('\0')) throw new InputError(`${option}: the ${what} ${shown} contains a NUL byte; use letters, digits, '.', '_', '-' and '+'`);
  if (value.includes('/') || value.includes('\\')) {
    throw new InputError(`${option}: the ${what} ${shown} contains a path separator and would escape the repository folder; use letters, digits, '.', '_', '-' and '+'`);
  }
  if (value.includes('..')) throw new InputError(`${option}: the ${what} ${shown} contains '..'; use letters, digits, '.', '_', '-' and '+'`);
  if (/\s/.test(value)) throw new InputError(`${option}: the ${what} ${shown} contains white space; use letters, digits, '.', '_', '-' and '+'`);
  if (!SAFE_NAME.test(value)) {
    throw new InputError(`${option}: the ${what} ${shown} is not a safe file name; start with a letter or digit and use letters, digits, '.', '_', '-' and '+'`);
  }
}

export function validatePotName(pot: string): void {
  checkSegment(pot, 'pot name', '--pot');
}

/** Tags are semantic versions: the repository orders them to refuse going backwards. */
export function validateTag(tag: string): void {
  checkSegment(tag, 'tag', '--tag');
  if (!semver.valid(tag) || tag.startsWith('v')) {
    throw new InputError(`--tag: ${JSON.stringify(tag)} is not a semantic version; use MAJOR.MINOR.PATCH (e.g. 0.11.0)`);
  }
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

/** Temporary names start with a dot (hidden from listings and from `pot-image serve`)
 *  and live in the same folder as the final name, so the rename is atomic. */
export function temporaryName(finalName: string): string {
  return `.${finalName}.${randomBytes(6).toString('hex')}.part`;
}

export function isTemporaryOrHidden(name: string): boolean {
  return name.startsWith('.');
}
