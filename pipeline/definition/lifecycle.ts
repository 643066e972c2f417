// Classify a FreeBSD release on the build date: supported, near its end
// (warn), end of life (refused unless allowed with a reason), not released
// yet, or unknown to the table. Pure functions over freebsd-releases.ts.
import { InputError } from '../errors.js';
import { FREEBSD_RELEASES, findBranch, findRelease, type FreeBsdRelease } from './freebsd-releases.js';
import type { ImageDefinition } from './types.js';

/** Fewer days than this before the end of life: the build warns. */
export const NEAR_END_DAYS = 92;

export type LifecycleStatus = 'supported' | 'near-end' | 'end-of-life' | 'unreleased' | 'unknown';

export interface Lifecycle {
  release: string;
  status: LifecycleStatus;
  /** The release's end of life (or its branch's, when that comes first). */
  eol?: string;
  /** One line for the plan, the log and warnings. */
  note: string;
}

const DAY = 86_400_000;

/** YYYY-MM-DD at 00:00 UTC. */
function day(text: string): number {
  return Date.parse(`${text}T00:00:00Z`);
}

/** The build date as YYYY-MM-DD (UTC). */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The build date: POT_IMAGE_BUILD_DATE=YYYY-MM-DD (to preview a later or earlier day), else today. */
export function buildDate(env: NodeJS.ProcessEnv = process.env): Date {
  const given = env.POT_IMAGE_BUILD_DATE;
  if (given === undefined || given === '') return new Date();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(given) || Number.isNaN(day(given))) {
    throw new InputError(`POT_IMAGE_BUILD_DATE: '${given}' is not a date; use YYYY-MM-DD or unset it`);
  }
  return new Date(day(given));
}

/** The earlier of the release's own end and its branch's. */
function endOf(r: FreeBsdRelease): string {
  const major = Number(r.release.split('.')[0]);
  const branch = findBranch(major)?.eol;
  return branch && branch < r.eol ? branch : r.eol;
}

/** Supported on `date`: released and not past its end (the end day itself still counts). */
export function isSupported(r: FreeBsdRelease, date: Date): boolean {
  const t = day(isoDay(date));
  return day(r.released) <= t && t <= day(endOf(r));
}

/** The supported releases on `date`, newest minor first within each major, majors newest first. */
export function supportedReleases(date: Date): FreeBsdRelease[] {
  const num = (r: FreeBsdRelease) => r.release.split('.').map(Number) as [number, number];
  return FREEBSD_RELEASES.filter((r) => isSupported(r, date))
    .sort((a, b) => num(b)[0] - num(a)[0] || num(b)[1] - num(a)[1]);
}

/**
 * What a Nomad client of each supported major would run on `date`: the newest
 * supported minor of each major, oldest major first (e.g. 14.5 and 15.1).
 */
export function currentReleases(date: Date): string[] {
  const newest = new Map<number, string>();
  for (const r of supportedReleases(date)) {
    const major = Number(r.release.split('.')[0]);
    if (!newest.has(major)) newest.set(major, r.release);
  }
  return [...newest.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
}

export function classify(potRelease: string, date: Date): Lifecycle {
  const r = findRelease(potRelease);
  const alternatives = currentReleases(date).join(', ');
  if (!r) {
    return { release: potRelease, status: 'unknown', note: `FreeBSD ${potRelease} is not in the release table (pipeline/definition/freebsd-releases.ts); supported today: ${alternatives}` };
  }
  const eol = endOf(r);
  const t = day(isoDay(date));
  if (t < day(r.released)) {
    return { release: potRelease, status: 'unreleased', eol, note: `FreeBSD ${potRelease} is announced for ${r.released} and not released yet; supported today: ${alternatives}` };
  }
  if (t > day(eol)) {
    return { release: potRelease, status: 'end-of-life', eol, note: `FreeBSD ${potRelease} reached its end of life on ${eol}; supported releases: ${alternatives}` };
  }
  const left = Math.round((day(eol) - t) / DAY);
  if (left < NEAR_END_DAYS) {
    return { release: potRelease, status: 'near-end', eol, note: `FreeBSD ${potRelease} reaches its end of life on ${eol} (in ${left} days); move its users to ${alternatives}` };
  }
  return { release: potRelease, status: 'supported', eol, note: `FreeBSD ${potRelease} is supported until ${eol}` };
}

/** A newer supported minor of the same major than `potRelease`, if any (a hint, never an error). */
export function newerMinor(potRelease: string, date: Date): string | undefined {
  const [major, minor] = potRelease.split('.').map(Number) as [number, number];
  const newer = currentReleases(date).find((r) => Number(r.split('.')[0]) === major);
  return newer && Number(newer.split('.')[1]) > minor ? newer : undefined;
}

/**
 * Judge every requested release before anything runs. End of life without an
 * allowance, not yet released, or unknown to the table: bad input (exit 2),
 * naming the date and the supported alternatives.
 */
export function admitReleases(definitions: readonly ImageDefinition[], date: Date): Map<string, Lifecycle> {
  const verdicts = new Map<string, Lifecycle>();
  for (const d of definitions) {
    const v = classify(d.freebsd.potRelease, date);
    verdicts.set(d.freebsd.potRelease, v);
    const field = d.freebsd.requested === 'explicit' ? '--release' : 'freebsd.releases';
    if (v.status === 'end-of-life' && !d.freebsd.eolAllowance) {
      throw new InputError(`${field} ${d.freebsd.potRelease}: ${v.note}; build a supported release, or build this one anyway with --allow-eol "REASON" (or freebsd.allow_eol in the definition)`);
    }
    if (v.status === 'unreleased') throw new InputError(`${field} ${d.freebsd.potRelease}: ${v.note}`);
    if (v.status === 'unknown') throw new InputError(`${field} ${d.freebsd.potRelease}: ${v.note}; add it there with its release and end-of-life dates (docs/releases.md)`);
  }
  return verdicts;
}
