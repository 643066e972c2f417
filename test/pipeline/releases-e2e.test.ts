// Releases end to end on the pretend builder: the default list (one image per
// release, a newer major than the builder's skipped), end-of-life releases
// refused or built from FreeBSD's archive, and everything preflight must know
// about a release before `pot create`, failing as it would on a real builder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, runCli } from '../helpers/cli.js';
import { freebsdHost } from '../helpers/freebsd-host.js';
import { TAG, sandbox } from './builder-sandbox.js';

const errorLine = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('pot-image: '))[0] ?? '';
const ARCHIVE = 'https://ftp-archive.freebsd.org/pub/FreeBSD-Archive/old-releases/amd64/amd64';
const RELEASES = 'https://ftp.freebsd.org/pub/FreeBSD/releases/amd64/amd64';
const REASON = 'Nomad jobs on 13.x clients still pull matrix-synapse-nomad-amd64-13_0';

/** The project's definition with its own release list, in the sandbox. */
function definitionWith(s: ReturnType<typeof sandbox>, releases: string): string {
  const file = join(s.dir, 'multi', 'image.yaml');
  const text = readFileSync(join(PROJECT_ROOT, 'image', 'image.yaml'), 'utf8').replace(/^version: .*$/m, `version: ${TAG}`).replace(/^  releases: .*$/m, `  releases: ${releases}`);
  const dir = join(s.dir, 'multi');
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, text);
  writeFileSync(join(dir, 'CHANGELOG.md'), `# Changelog\n\n## ${TAG}\n\n- test build\n`);
  return file;
}

test('the default list on a 14.x builder: 14.5 is built, 15.1 skipped with the reason, exit 0', async () => {
  const s = sandbox();
  const r = await s.build(['--definition', definitionWith(s, '["14.5", "15.1"]'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { ok: boolean; builds: Record<string, any>[] };
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.builds.map((b) => [b.release, b.ok, Boolean(b.skipped)]), [['14.5', true, false], ['15.1', true, true]]);
  assert.match(doc.builds[1]!.message, /the builder runs FreeBSD 14\.3-RELEASE, and a jail cannot run a newer major \(15\.1\) than its host; build it on a FreeBSD 15\.x builder/);
  assert.ok(s.outputFiles().includes(`matrix-synapse-nomad-amd64-14_5_${TAG}.xz`));
  assert.ok(!s.outputFiles().some((f) => f.includes('15_1') && f.endsWith('.xz')));
  assert.ok(!s.calls().some((l) => l.startsWith('pot create -p matrix-synapse-nomad-amd64-15_1')));
  assert.match(r.stderr, /^15\.1: skipped \(/m);
});

test('on a 15.x builder the same list builds both, each with its own pot and artifacts', async () => {
  const s = sandbox();
  const r = await s.build(['--definition', definitionWith(s, '["14.5", "15.1"]')], { POT_STANDIN_UNAME_R: '15.1-RELEASE' });
  assert.equal(r.code, 0, r.stderr);
  for (const pot of ['matrix-synapse-nomad-amd64-14_5', 'matrix-synapse-nomad-amd64-15_1']) {
    assert.ok(s.outputFiles().includes(`${pot}_${TAG}.xz`), s.outputFiles().join(' '));
    assert.ok(s.calls().some((l) => l.startsWith(`pot create -p ${pot} `)));
  }
});

test('the plan asks each release\'s repository by its own name: FreeBSD on 14.x, FreeBSD-ports on 15.x', async () => {
  const r = await runCli(['plan', '--release', '14.5', '--release', '15.1'], { env: { POT_IMAGE_BUILD_DATE: '2026-12-01' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^pkg -o ABI=FreeBSD:14:amd64 .* update -q -r FreeBSD$/m);
  assert.match(r.stdout, /^pkg -o ABI=FreeBSD:15:amd64 .* update -q -r FreeBSD-ports$/m);
  assert.match(r.stdout, /^pkg -o ABI=FreeBSD:15:amd64 .* rquery -U -r FreeBSD-ports -e '%o == net-im\/py-matrix-synapse' %n-%v$/m);
  assert.match(r.stdout, /^pot create -p matrix-synapse-nomad-amd64-14_5 .*\n[^]*^pot create -p matrix-synapse-nomad-amd64-15_1 /m);
});

test('--release asked explicitly for a newer major than the builder is refused with the reason', async () => {
  const s = sandbox();
  const r = await s.build(['--release', '15.1']);
  assert.equal(r.code, 1);
  assert.match(errorLine(r.stderr), /the builder runs FreeBSD 14\.3-RELEASE, and a jail cannot run a newer major \(15\.1\) than its host: build it on a FreeBSD 15\.x builder/);
  assert.ok(!s.calls().some((l) => l.startsWith('pot create')));
});

test('--release 13.0 is refused (exit 2) with its end of life and the supported alternatives; nothing runs', async () => {
  const s = sandbox();
  const r = await s.build(['--release', '13.0']);
  assert.equal(r.code, 2);
  assert.equal(errorLine(r.stderr), 'pot-image: --release 13.0: FreeBSD 13.0 reached its end of life on 2022-08-31; supported releases: 14.5, 15.1; build a supported release, or build this one anyway with --allow-eol "REASON" (or freebsd.allow_eol in the definition)');
  assert.deepEqual(s.calls(), []);
  const dry = await runCli(['plan', '--release', '13.0'], { env: { POT_IMAGE_BUILD_DATE: '2026-12-01' } });
  assert.equal(dry.code, 2);
  assert.match(dry.stderr, /13\.0 reached its end of life on 2022-08-31; supported releases: 14\.5, 15\.1/);
});

test('the dry run of 13.0 with --allow-eol plans the archive pre-seed, the checksum and the project\'s update flavour', async () => {
  const r = await runCli(['plan', '--release', '13.0', '--allow-eol', REASON], { env: { POT_IMAGE_BUILD_DATE: '2026-12-01' } });
  assert.equal(r.code, 0, r.stderr);
  const plan = r.stdout;
  assert.match(plan, new RegExp(`fetch -m -o /var/cache/pot/13\\.0-RELEASE_base\\.txz\\.part ${ARCHIVE}/13\\.0-RELEASE/base\\.txz`));
  // the MANIFEST read, the download checksummed against it, then moved into pot's cache
  assert.match(plan, /^cat \/usr\/local\/share\/freebsd\/MANIFESTS\/amd64-amd64-13\.0-RELEASE$/m);
  assert.match(plan, /^sha256 -q \/var\/cache\/pot\/13\.0-RELEASE_base\.txz\.part$/m);
  assert.match(plan, /^mv \/var\/cache\/pot\/13\.0-RELEASE_base\.txz\.part \/var\/cache\/pot\/13\.0-RELEASE_base\.txz$/m);
  assert.match(plan, /^pot create -p matrix-synapse-nomad-amd64-13_0 -t single -b 13\.0 -N public-bridge -f fbsd-update-eol -f matrix-synapse-nomad /m);
  assert.doesNotMatch(plan, /-f fbsd-update -f/);
  assert.match(plan, new RegExp(`built anyway because: ${REASON}`));
  assert.match(plan, /pkg -o ABI=FreeBSD:13:amd64 .* update -q -r FreeBSD/);
  assert.match(r.stderr, /BUILDING FreeBSD 13\.0 PAST ITS END OF LIFE \(2022-08-31\)/);
});

test('an end-of-life build with the allowance: base from the archive into pot\'s cache, fbsd-update-eol, a built image', async () => {
  const s = sandbox();
  const host = freebsdHost();
  const b = host.base('13.0');
  host.manifest('13.0', b.sha);
  host.serve(`${ARCHIVE}/13.0-RELEASE/base.txz`, b.file);
  const r = await s.build(['--release', '13.0', '--allow-eol', REASON], host.env);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(host.root, 'var/cache/pot/13.0-RELEASE_base.txz')), 'pre-seeded');
  const create = s.calls().find((l) => l.startsWith('pot create'))!;
  assert.match(create, /-b 13\.0 -N public-bridge -f fbsd-update-eol -f matrix-synapse-nomad/);
  assert.ok(s.outputFiles().includes(`matrix-synapse-nomad-amd64-13_0_${TAG}.xz`));
  assert.match(r.stderr, /warning: BUILDING FreeBSD 13\.0 PAST ITS END OF LIFE/);
});

test('without the pre-seed pot cannot create an end-of-life release: the stand-in fails like pot (base only on the archive)', async () => {
  const s = sandbox();
  const host = freebsdHost();
  const b = host.base('13.0');
  host.manifest('13.0', b.sha);
  host.serve(`${ARCHIVE}/13.0-RELEASE/base.txz`, b.file);
  const { spawnSync } = await import('node:child_process');
  const pot = spawnSync(join(PROJECT_ROOT, 'test/stand-ins/pot'), ['create', '-p', 'x', '-t', 'single', '-b', '13.0'], { env: { ...process.env, ...s.env, ...host.env }, encoding: 'utf8' });
  assert.equal(pot.status, 1);
  assert.match(pot.stdout, /###> {2}FreeBSD 13\.0 fetch failed - try to continue/);
  assert.match(pot.stderr, /fetch: https:\/\/ftp\.freebsd\.org\/pub\/FreeBSD\/releases\/amd64\/amd64\/13\.0-RELEASE\/base\.txz: Not Found/);
  assert.deepEqual(s.pots(), [], 'rolled back');
});

test('a base from the archive whose sha256 is not the MANIFEST\'s stops the build before pot create', async () => {
  const s = sandbox();
  const host = freebsdHost();
  const good = host.base('13.0');
  const other = host.base('13.0', 'Tampered');
  host.manifest('13.0', good.sha);
  host.serve(`${ARCHIVE}/13.0-RELEASE/base.txz`, other.file);
  const r = await s.build(['--release', '13.0', '--allow-eol', REASON], host.env);
  assert.equal(r.code, 1);
  assert.match(errorLine(r.stderr), new RegExp(`pre-seed failed: the base downloaded from ${ARCHIVE}/13\\.0-RELEASE/base\\.txz has sha256 ${other.sha}, but /usr/local/share/freebsd/MANIFESTS/amd64-amd64-13\\.0-RELEASE says ${good.sha}`));
  assert.ok(!s.calls().some((l) => l.startsWith('pot create')));
  assert.ok(!existsSync(join(host.root, 'var/cache/pot/13.0-RELEASE_base.txz')) && !existsSync(join(host.root, 'var/cache/pot/13.0-RELEASE_base.txz.part')));
});

test('the package repository of an end-of-life branch is gone: preflight names the release, nothing is created', async () => {
  const s = sandbox();
  const r = await s.build(['--release', '13.0', '--allow-eol', REASON], { PKG_STANDIN_GONE_ABIS: 'FreeBSD:13:amd64' });
  assert.equal(r.code, 1);
  assert.match(errorLine(r.stderr), /no package repository answers for FreeBSD:13:amd64, the packages of FreeBSD 13\.0 \(pkg: https:\/\/pkg\.FreeBSD\.org\/FreeBSD:13:amd64\/quarterly\/meta\.conf: Not Found\): FreeBSD removes a branch's packages soon after its end of life/);
  assert.ok(!s.calls().some((l) => l.startsWith('pot create')));
});

test('preflight: a base neither cached nor downloadable, a missing origin, no group pot and a loopback resolver, all in one line', async () => {
  const s = sandbox();
  const host = freebsdHost({ resolv: 'nameserver 127.0.0.1\n' });
  const b = host.base('14.5');
  host.manifest('14.5', b.sha);
  const r = await s.build([], { ...host.env, PKG_STANDIN_REPO_LACKS: 'net/py-matrix-synapse-ldap3', POT_STANDIN_NO_POT_GROUP: '1' });
  assert.equal(r.code, 1);
  const line = errorLine(r.stderr);
  assert.match(line, /the group 'pot' is missing \(pot refuses to run without it\): pw groupadd pot/);
  assert.match(line, new RegExp(`the base of FreeBSD 14\\.5 is not in pot's cache and ${RELEASES}/14\\.5-RELEASE/base\\.txz does not answer \\(fetch: .*Not Found\\)`));
  assert.match(line, /the FreeBSD repository for FreeBSD:14:amd64 has no package for net\/py-matrix-synapse-ldap3/);
  assert.match(line, /\/etc\/resolv\.conf names only 127\.0\.0\.1, which inside a bridged jail is the jail itself: the jail has no DNS and pkg fails inside it: name a resolver the jail can reach/);
  assert.ok(!s.calls().some((l) => l.startsWith('pot create')));
});

test('a cached base with the wrong sha256 is a preflight problem (pot would refuse it)', async () => {
  const s = sandbox();
  writeFileSync(join(s.host.root, 'var/cache/pot/14.5-RELEASE_base.txz'), 'not the base');
  const r = await s.build();
  assert.equal(r.code, 1);
  assert.match(errorLine(r.stderr), /the cached base \/var\/cache\/pot\/14\.5-RELEASE_base\.txz has sha256 [0-9a-f]{64}, but .* says [0-9a-f]{64} \(pot would refuse it\): rm \/var\/cache\/pot\/14\.5-RELEASE_base\.txz/);
});

test('a base whose pkg.conf names the wrong repository for its release is a preflight problem', async () => {
  const s = sandbox();
  const b = s.host.base('14.5', 'FreeBSD-ports');
  s.host.manifest('14.5', b.sha);
  s.host.cache('14.5', b.file);
  const r = await s.build();
  assert.equal(r.code, 1);
  assert.match(errorLine(r.stderr), /names its package repository 'FreeBSD-ports' in \/etc\/pkg\/FreeBSD\.conf, but FreeBSD 14\.x uses 'FreeBSD'/);
});

test('the runtime check fails the build before export, naming the package and its error', async () => {
  const s = sandbox();
  const r = await s.build([], { STANDIN_RUNTIME_FAIL: 'net-im/py-matrix-synapse: ImportError: version FBSD_1.8 required by _rust.so not found' });
  assert.equal(r.code, 1);
  assert.match(errorLine(r.stderr), /Runtime check failed: programs of the image do not run on its FreeBSD 14\.5 userland: net-im\/py-matrix-synapse: exited 1: ImportError: version FBSD_1\.8 required/);
  assert.ok(!s.calls().some((l) => l.startsWith('pot export')));
  assert.deepEqual(s.pots(), []);
});
