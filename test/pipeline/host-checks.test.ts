// How preflight reads what the builder's tools print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GiB, formatBytes, resolvConfProblem, knownReleases, majorOf, manifestName, parseDfAvail, parseUname, parseZfsAvail } from '../../pipeline/steps/host-checks.js';

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

test('the jail needs a resolver it can reach: loopback-only resolv.conf is a problem', () => {
  assert.equal(resolvConfProblem('search example.org\nnameserver 192.0.2.53\n'), undefined);
  assert.equal(resolvConfProblem('nameserver 127.0.0.1\nnameserver 192.0.2.53\n'), undefined, 'one reachable resolver is enough');
  assert.match(resolvConfProblem('# local_unbound\nnameserver 127.0.0.1\noptions edns0\n')!.what, /only 127\.0\.0\.1, which inside a bridged jail is the jail itself/);
  assert.match(resolvConfProblem('nameserver ::1\n')!.fix, /local_unbound listen on the bridge/);
  assert.match(resolvConfProblem('')!.what, /names no nameserver/);
});
