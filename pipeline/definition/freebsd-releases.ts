// FreeBSD's release lifecycle as data: which releases exist, when each came
// out and when it reaches its end of life. The build date is classified
// against it (lifecycle.ts), so a release past its end never builds by accident.
//
// Sources: the FreeBSD Security Officer's "Supported FreeBSD releases" table
// (https://www.freebsd.org/security/#sup), the list of unsupported releases
// (https://www.freebsd.org/security/unsupported/), each release's announcement
// (https://www.freebsd.org/releases/) and the release engineering schedule
// (https://www.freebsd.org/releng/). How to update it: docs/releases.md.

export interface FreeBsdRelease {
  /** N.M as `pot create -b` takes it. */
  release: string;
  /** Release date (YYYY-MM-DD); a date in the future means "announced, not out yet". */
  released: string;
  /** Last day the Security Officer supports it (YYYY-MM-DD, inclusive). */
  eol: string;
}

export interface FreeBsdBranch {
  major: number;
  /** Last day of the whole stable/N branch: its packages go soon after. */
  eol: string;
}

/** Oldest first. Keep every release an image was ever built for: its name must stay classifiable. */
export const FREEBSD_RELEASES: readonly FreeBsdRelease[] = [
  { release: '12.4', released: '2022-12-05', eol: '2023-12-31' },
  { release: '13.0', released: '2021-04-13', eol: '2022-08-31' },
  { release: '13.1', released: '2022-05-16', eol: '2023-07-31' },
  { release: '13.2', released: '2023-04-11', eol: '2024-06-30' },
  { release: '13.3', released: '2024-03-05', eol: '2024-12-31' },
  { release: '13.4', released: '2024-09-17', eol: '2025-06-30' },
  { release: '13.5', released: '2025-03-11', eol: '2026-04-30' },
  { release: '14.0', released: '2023-11-20', eol: '2024-09-30' },
  { release: '14.1', released: '2024-06-04', eol: '2025-03-31' },
  { release: '14.2', released: '2024-12-03', eol: '2025-09-30' },
  { release: '14.3', released: '2025-06-10', eol: '2026-06-30' },
  { release: '14.4', released: '2026-03-10', eol: '2026-12-31' },
  { release: '14.5', released: '2026-09-08', eol: '2027-06-30' },
  { release: '15.0', released: '2025-12-02', eol: '2026-09-30' },
  { release: '15.1', released: '2026-06-09', eol: '2027-03-31' },
  { release: '15.2', released: '2026-12-08', eol: '2027-09-30' },
];

export const FREEBSD_BRANCHES: readonly FreeBsdBranch[] = [
  { major: 12, eol: '2023-12-31' },
  { major: 13, eol: '2026-04-30' },
  { major: 14, eol: '2028-11-30' },
  { major: 15, eol: '2029-12-31' },
];

/**
 * The ports repository's name in the base system's /etc/pkg/FreeBSD.conf:
 * `FreeBSD` up to 14.x; 15.0 split the base system's packages off and renamed
 * the ports repository `FreeBSD-ports`.
 */
export function portsRepositoryName(major: number): 'FreeBSD' | 'FreeBSD-ports' {
  return major >= 15 ? 'FreeBSD-ports' : 'FreeBSD';
}

export function findRelease(potRelease: string): FreeBsdRelease | undefined {
  return FREEBSD_RELEASES.find((r) => r.release === potRelease);
}

export function findBranch(major: number): FreeBsdBranch | undefined {
  return FREEBSD_BRANCHES.find((b) => b.major === major);
}
