// FreeBSD's lifecycle as data: the table cannot rot silently, and each release
// is classified on the build date the way the Security Officer's table says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FREEBSD_RELEASES, portsRepositoryName } from '../../pipeline/definition/freebsd-releases.js';
import { admitReleases, buildDate, classify, currentReleases, newerMinor } from '../../pipeline/definition/lifecycle.js';
import { loadDefinitions } from '../../pipeline/definition/load.js';
import { PROJECT_ROOT } from '../helpers/cli.js';

const DAY = 86_400_000;
const on = (d: string) => new Date(`${d}T00:00:00Z`);

test('the release table is kept up to date: its newest release is less than a year old (docs/releases.md says how to update it)', () => {
  const newest = FREEBSD_RELEASES.map((r) => r.released).sort().pop()!;
  const age = (Date.now() - Date.parse(`${newest}T00:00:00Z`)) / DAY;
  assert.ok(age < 365, `the newest release in pipeline/definition/freebsd-releases.ts came out on ${newest}, ${Math.round(age)} days ago: add the releases since, with their end-of-life dates`);
});

test('the table is well-formed: N.M, dates, out before its end, one entry each', () => {
  const seen = new Set<string>();
  for (const r of FREEBSD_RELEASES) {
    assert.match(r.release, /^\d+\.\d+$/);
    assert.ok(!seen.has(r.release), `${r.release} twice`);
    seen.add(r.release);
    assert.ok(!Number.isNaN(Date.parse(r.released)) && !Number.isNaN(Date.parse(r.eol)));
    assert.ok(r.released < r.eol, `${r.release} ends before it starts`);
  }
});

test('on 2026-12-01: 14.5 and 15.1 are what clients run, 14.4 is near its end, 13.x and 15.0 are past it, 15.2 not out', () => {
  const today = on('2026-12-01');
  assert.deepEqual(currentReleases(today), ['14.5', '15.1']);
  assert.equal(classify('14.5', today).status, 'supported');
  assert.equal(classify('15.1', today).status, 'supported');
  const near = classify('14.4', today);
  assert.equal(near.status, 'near-end');
  assert.match(near.note, /reaches its end of life on 2026-12-31 \(in 30 days\)/);
  assert.equal(classify('13.0', today).status, 'end-of-life');
  assert.equal(classify('13.5', today).status, 'end-of-life', 'the whole 13 branch ended on 2026-04-30');
  assert.equal(classify('15.0', today).status, 'end-of-life');
  assert.equal(classify('15.2', today).status, 'unreleased');
  assert.equal(classify('16.0', today).status, 'unknown');
  assert.equal(newerMinor('14.4', today), '14.5');
  assert.equal(newerMinor('14.5', today), undefined);
});

test('the end-of-life day itself still counts as supported; the day after does not', () => {
  assert.equal(classify('14.4', on('2026-12-31')).status, 'near-end');
  assert.equal(classify('14.4', on('2027-01-01')).status, 'end-of-life');
  assert.deepEqual(currentReleases(on('2026-12-08')), ['14.5', '15.2']);
});

test('the ports repository is FreeBSD up to 14.x and FreeBSD-ports from 15.0', () => {
  assert.equal(portsRepositoryName(13), 'FreeBSD');
  assert.equal(portsRepositoryName(14), 'FreeBSD');
  assert.equal(portsRepositoryName(15), 'FreeBSD-ports');
});

test('admitting releases: end of life without an allowance is bad input naming the date and the alternatives', () => {
  const defs = loadDefinitions('image/image.yaml', { releases: ['14.5', '13.0'] }, PROJECT_ROOT);
  assert.throws(() => admitReleases(defs, on('2026-12-01')), (e: Error & { exitCode?: number }) => {
    assert.equal(e.exitCode, 2);
    assert.equal(e.message, '--release 13.0: FreeBSD 13.0 reached its end of life on 2022-08-31; supported releases: 14.5, 15.1; build a supported release, or build this one anyway with --allow-eol "REASON" (or freebsd.allow_eol in the definition)');
    return true;
  });
  const allowed = loadDefinitions('image/image.yaml', { releases: ['13.0'], allowEol: 'jobs on 13.x clients still use it' }, PROJECT_ROOT);
  assert.equal(admitReleases(allowed, on('2026-12-01')).get('13.0')!.status, 'end-of-life');
  assert.throws(() => admitReleases(loadDefinitions('image/image.yaml', { releases: ['15.2'] }, PROJECT_ROOT), on('2026-12-01')), /15\.2 is announced for 2026-12-08 and not released yet/);
  assert.throws(() => admitReleases(loadDefinitions('image/image.yaml', { releases: ['16.0'] }, PROJECT_ROOT), on('2026-12-01')), /not in the release table .*add it there with its release and end-of-life dates/);
});

test('the project definition builds 14.5 and 15.1, in that order, from its list', () => {
  const defs = loadDefinitions('image/image.yaml', {}, PROJECT_ROOT);
  assert.deepEqual(defs.map((d) => [d.potName, d.freebsd.requested]), [['matrix-synapse-nomad-amd64-14_5', 'default'], ['matrix-synapse-nomad-amd64-15_1', 'default']]);
  assert.deepEqual(loadDefinitions('image/image.yaml', { releases: ['15.1'] }, PROJECT_ROOT).map((d) => d.freebsd.requested), ['explicit']);
});

test('POT_IMAGE_BUILD_DATE previews another day; a bad one is refused', () => {
  assert.equal(buildDate({ POT_IMAGE_BUILD_DATE: '2027-04-01' }).toISOString().slice(0, 10), '2027-04-01');
  assert.throws(() => buildDate({ POT_IMAGE_BUILD_DATE: 'tomorrow' }), /POT_IMAGE_BUILD_DATE: 'tomorrow' is not a date; use YYYY-MM-DD/);
});
