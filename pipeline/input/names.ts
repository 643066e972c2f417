// The one validator for pot names and tags, used by every command that takes
// --pot or --tag (publish, verify, nomad-job, the build): both become file names
// in a repository and path segments of its URL, so they are names, never paths.
import semver from 'semver';
import { InputError } from '../errors.js';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
const ALLOWED = "use letters, digits, '.', '_', '-' and '+'";

function checkSegment(value: string, what: string, option: string, example: string): string {
  const shown = JSON.stringify(value);
  if (value === '') throw new InputError(`${option}: the ${what} is empty; give one such as ${example}`);
  if (value.includes('\0')) throw new InputError(`${option}: the ${what} ${shown} contains a NUL byte; ${ALLOWED}`);
  if (value.includes('/') || value.includes('\\')) {
    throw new InputError(`${option}: the ${what} ${shown} contains a path separator and would escape the repository folder; ${ALLOWED}`);
  }
  if (value.includes('..')) throw new InputError(`${option}: the ${what} ${shown} contains '..'; ${ALLOWED}`);
  if (/\s/.test(value)) throw new InputError(`${option}: the ${what} ${shown} contains white space; ${ALLOWED}`);
  if (!SAFE_NAME.test(value)) {
    throw new InputError(`${option}: the ${what} ${shown} is not a safe file name; start with a letter or digit and ${ALLOWED}`);
  }
  return value;
}

/** A pot name such as matrix-synapse-nomad-amd64-13_0. */
export function checkPotName(pot: string, option = '--pot'): string {
  return checkSegment(pot, 'pot name', option, 'matrix-synapse-nomad-amd64-13_0');
}

/**
 * A tag such as 0.11.0. `semver`: publish orders tags to refuse going backwards, so it
 * needs MAJOR.MINOR.PATCH; reading commands (verify, nomad-job) take any safe name.
 */
export function checkTag(tag: string, option = '--tag', options: { semver?: boolean } = {}): string {
  checkSegment(tag, 'tag', option, '0.11.0');
  if (options.semver && (!semver.valid(tag) || tag.startsWith('v'))) {
    throw new InputError(`${option}: ${JSON.stringify(tag)} is not a semantic version; use MAJOR.MINOR.PATCH (e.g. 0.11.0)`);
  }
  return tag;
}
