// How preflight reads what the builder's tools print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GiB, eolWarning, formatBytes, knownReleases, majorOf, manifestName, parseDfAvail, parseUname, parseZfsAvail } from '../../pipeline/steps/host-checks.js';

test('uname, zfs and df output', () => {
  assert.deepEqual(parseUname('FreeBSD 14.3-RELEASE-p2 amd64 amd64\n'), { system: 'FreeBSD', release: '14.3-RELEASE-p2', machine: 'amd64', processor: 'amd64' });
  assert.equal(parseUname('').system, '');
  assert.equal(majorOf('14.3-RELEASE-p2'), 14);
  assert.ok(Number.isNaN(majorOf('weird')));
  assert.equal(parseZfsAvail('zroot/pot\t53687091200\n'), 50 * GiB);
  assert.equal(parseZfsAvail('zroot/pot\t-\n'), undefined);
  assert.equal(parseZfsAvail(''), undefined);
  const df = 'Filesystem 1024-blocks Used Avail Capacity Mounted on\nzroot/out 1000 10 2097152 1% /out\n';
  assert.equal(parseDfAvail(df), 2 * GiB);
  assert.equal(parseDfAvail('only a header\n'), undefined);
  assert.equal(formatBytes(3 * GiB), '3.0 GiB');
  assert.equal(formatBytes(5 * 1024 ** 2), '5 MiB');
});

test('release manifests: pot looks for <machine>-<machine_arch>-<N.M>-RELEASE', () => {
  assert.equal(manifestName('arm64', 'aarch64', '14.3'), 'arm64-aarch64-14.3-RELEASE');
  const list = 'freebsd-release-manifests-20250610:\n\t/usr/local/share/freebsd/MANIFESTS/amd64-amd64-13.0-RELEASE\n\t/usr/local/share/freebsd/MANIFESTS/arm64-aarch64-14.3-RELEASE\n\t/usr/local/share/freebsd/MANIFESTS/amd64-amd64-14.3-RELEASE\n';
  assert.deepEqual(knownReleases(list, 'amd64', 'amd64'), ['13.0', '14.3']);
  assert.deepEqual(knownReleases(list, 'arm64', 'aarch64'), ['14.3']);
  // pkg lists files alphabetically; pot (sort -V) and we list releases in version order
  const mixed = ['14.3', '13.0', '9.3', '15.0', '13.5', '10.4'].map((r) => `\t/usr/local/share/freebsd/MANIFESTS/amd64-amd64-${r}-RELEASE\n`).join('');
  assert.deepEqual(knownReleases(`m:\n${mixed}\t/usr/local/share/freebsd/MANIFESTS/amd64-amd64-14.0-RC1\n`, 'amd64', 'amd64'), ['9.3', '10.4', '13.0', '13.5', '14.3', '15.0']);
});

test('end-of-life warnings: 13.0 since 2022, the whole 13 branch since 2026-04-30, 14.x supported', () => {
  assert.match(eolWarning(13, 0)!, /13\.0 is end-of-life since 2022: .*--release 14\.3/);
  assert.match(eolWarning(13, 5, new Date('2026-05-01'))!, /13\.5 is end-of-life since 2026-04-30 \(the whole 13 branch\)/);
  assert.match(eolWarning(13, 5, new Date('2026-01-01'))!, /reaches end-of-life on 2026-04-30/);
  assert.match(eolWarning(12, 4)!, /12\.4 is end-of-life/);
  assert.equal(eolWarning(14, 3), undefined);
  assert.equal(eolWarning(15, 0), undefined);
});
