// Reads the version of the top entry of image/CHANGELOG.md.
// Accepted entry headings: "## 0.11.0", "## 0.11.0 - 2026-11-26", "## [0.11.0] 2026-11-26",
// and potluck's bare "0.10.2" line. The first entry found is the top one.
import { existsSync, readFileSync } from 'node:fs';
import semver from 'semver';
import { InputError } from '../errors.js';

const HEADING = /^#{2,3}\s+\[?v?([^\]\s]+)\]?/;
const BARE_VERSION = /^v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)\s*$/;

/** The version of the first entry, or an InputError naming the file and what to add. */
export function topChangelogVersion(changelogPath: string, shownAs = changelogPath): string {
  if (!existsSync(changelogPath)) {
    throw new InputError(`${shownAs} does not exist; add it with a top entry '## X.Y.Z' for the image version`);
  }
  const lines = readFileSync(changelogPath, 'utf8').split(/\r?\n/);
  let inFence = false;
  for (const line of lines) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const heading = HEADING.exec(line);
    const bare = heading ? null : BARE_VERSION.exec(line);
    const found = heading?.[1] ?? bare?.[1];
    if (found === undefined) continue;
    const version = found.replace(/^v/, '');
    if (!semver.valid(version)) {
      throw new InputError(`${shownAs}: the top entry '${line.trim()}' does not name a version; start the file's first entry with '## X.Y.Z'`);
    }
    return version;
  }
  throw new InputError(`${shownAs} has no version entry; add a top entry '## X.Y.Z' for the image version`);
}
