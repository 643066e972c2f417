// Version agreement: the image definition's version, the top entry of the
// CHANGELOG and, on a release, the git tag (v0.11.0 <-> 0.11.0) must be equal.
// `build-image` (preflight) and the release workflow (`pot-image check-version`) call this.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { InputError } from '../errors.js';
import { topChangelogVersion } from './changelog.js';

export interface VersionAgreementInput {
  /** The version from image/image.yaml (ImageDefinition.version). */
  definitionVersion: string;
  /** Path of image/CHANGELOG.md. */
  changelogPath: string;
  /**
   * The release tag, e.g. "v0.11.0". When omitted, the tag of a GitHub Actions tag build is used
   * (GITHUB_REF_NAME when GITHUB_REF_TYPE=tag); otherwise no tag is checked.
   */
  gitTag?: string;
  /** Environment to read the GitHub tag from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** The flavour payload's `image-version` file (what cook prints at start), checked when it exists. */
  payloadVersionFile?: string;
  /** Where definitionVersion came from when not the file, e.g. "--tag" (named in messages). */
  versionSource?: string;
}

export interface VersionAgreement {
  version: string;
  /** The tag that was checked, if any. */
  tag?: string;
}

const TAG = /^v(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)$/;

/** The tag of a GitHub Actions run started by a tag push, else undefined. */
export function tagFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.GITHUB_REF_TYPE !== 'tag') return undefined;
  const name = env.GITHUB_REF_NAME?.trim();
  return name ? name : undefined;
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** Throws an InputError with one line when the versions disagree; returns what agreed. */
export function checkVersionsAgree(input: VersionAgreementInput): VersionAgreement {
  const { definitionVersion, changelogPath } = input;
  const changelogName = shown(changelogPath);
  const says = input.versionSource ? `${input.versionSource} gives` : 'the image definition says';
  const orSet = (v: string) => input.versionSource ? `or pass ${input.versionSource} ${v}` : `or set the definition's version to ${v}`;
  const top = topChangelogVersion(changelogPath, changelogName);
  if (top !== definitionVersion) {
    throw new InputError(
      `version mismatch: ${says} ${definitionVersion} but the top entry of ${changelogName} is ${top}; ` +
        `add a '## ${definitionVersion}' entry at the top of ${changelogName} ${orSet(top)}`,
    );
  }
  if (input.payloadVersionFile && existsSync(input.payloadVersionFile)) {
    const payloadName = shown(input.payloadVersionFile);
    const inImage = readFileSync(input.payloadVersionFile, 'utf8').split('\n')[0]!.trim();
    if (inImage !== definitionVersion) {
      throw new InputError(
        `version mismatch: ${says} ${definitionVersion} but ${payloadName} (what cook reports) says ${inImage || 'nothing'}; ` +
          `write ${definitionVersion} into ${payloadName}`,
      );
    }
  }
  const tag = input.gitTag?.trim() || tagFromEnvironment(input.env ?? process.env);
  if (tag === undefined) return { version: definitionVersion };
  const m = TAG.exec(tag);
  if (!m) {
    throw new InputError(`git tag '${tag}' is not a release tag; release tags look like v${definitionVersion}`);
  }
  if (m[1] !== definitionVersion) {
    throw new InputError(
      `version mismatch: git tag ${tag} names ${m[1]} but the image definition and ${changelogName} say ${definitionVersion}; ` +
        `tag the release v${definitionVersion}, or bump the version and add its CHANGELOG entry before tagging`,
    );
  }
  return { version: definitionVersion, tag };
}
