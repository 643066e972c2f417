// The previous image version, taken from git: the flavour at the newest
// release tag (vX.Y.Z, reachable from HEAD, older than this checkout's
// image-version). Before the first release (or in a clone without tags) it is
// the first commit whose flavour has a cook, the oldest data layout this
// project has written. TEST_UPGRADE_FROM=<git ref> picks another.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { PROJECT_ROOT } from '../../scripts/cook-render.js';

const COOK = 'flavours/matrix-synapse-nomad.d/cook';

function git(args: string[]): string {
  return execFileSync('git', ['-C', PROJECT_ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export interface Previous { ref: string; commit: string; label: string }

/** The previous version, or a one-line reason why git cannot give one. */
export function previousRelease(): Previous | string {
  try {
    git(['rev-parse', '--git-dir']);
  } catch (error: any) {
    const said = String(error.stderr ?? '').trim().split('\n')[0];
    return `git cannot read this checkout (${said || 'not a git checkout'}): the previous version cannot be taken from git`;
  }
  const current = readFileSync(join(PROJECT_ROOT, 'flavours', 'matrix-synapse-nomad.d', 'image-version'), 'utf8').trim();
  const asked = process.env.TEST_UPGRADE_FROM;
  if (asked) {
    try { return { ref: asked, commit: git(['rev-parse', '--verify', `${asked}^{commit}`]), label: `${asked} (TEST_UPGRADE_FROM)` }; } catch {
      return `TEST_UPGRADE_FROM=${asked} is not a commit in this clone`;
    }
  }
  const tags = git(['tag', '--list', 'v*', '--merged', 'HEAD']).split('\n').filter(Boolean)
    .filter((t) => semver.valid(t.slice(1)) && semver.lt(t.slice(1), current))
    .sort((a, b) => semver.rcompare(a.slice(1), b.slice(1)));
  if (tags[0]) return { ref: tags[0], commit: git(['rev-parse', `${tags[0]}^{commit}`]), label: `release ${tags[0]}` };
  const first = git(['log', '--diff-filter=A', '--format=%H', '--', COOK]).split('\n').filter(Boolean).pop();
  if (!first) return `no release tag older than ${current} and no commit adding ${COOK} in this clone (shallow? fetch with --tags --unshallow)`;
  return { ref: first, commit: first, label: `${first.slice(0, 7)}, the first commit with cook (no release tag older than ${current} in this clone)` };
}

/** The flavours/ folder of that commit, extracted into DIR. */
export function extractFlavours(previous: Previous, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['-C', PROJECT_ROOT, 'archive', '--format=tar', previous.commit, 'flavours'], { maxBuffer: 64 << 20 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  const flavours = join(dir, 'flavours');
  if (!existsSync(join(dir, COOK))) throw new Error(`${previous.label} has no ${COOK}`);
  return flavours;
}
