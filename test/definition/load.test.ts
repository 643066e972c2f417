// The image definition: defaults, overrides, the derived pot name, and one
// line naming field, value and what is allowed for every invalid input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../pipeline/errors.js';
import { loadDefinition, parseDefinitionYaml, resolveChain } from '../../pipeline/definition/load.js';
import { importedPotName, parseRelease, potName } from '../../pipeline/definition/pot-name.js';
import type { DefinitionOverrides } from '../../pipeline/definition/types.js';
import { tempDir } from '../helpers/tmp.js';

const BASE = `flavour: demo
version: 0.3.0
freebsd:
  release: 13.0
  arch: amd64
flavours:
  source: flv
  install_dir: /usr/local/etc/pot/flavours
export:
  compression: 6
  output: out
`;

/** A project folder with a definition and the flavour files named in `flavours`. */
function project(yaml = BASE, flavours = ['demo', 'demo.sh', 'demo+4']): string {
  const root = tempDir('pot-image-def-');
  writeFileSync(join(root, 'package.json'), '{}');
  mkdirSync(join(root, 'image'));
  writeFileSync(join(root, 'image', 'image.yaml'), yaml);
  mkdirSync(join(root, 'flv'));
  for (const f of flavours) writeFileSync(join(root, 'flv', f), '');
  return root;
}

function load(root: string, overrides: DefinitionOverrides = {}) {
  return loadDefinition('image/image.yaml', overrides, root);
}

function rejects(root: string, overrides: DefinitionOverrides, pattern: RegExp): void {
  assert.throws(() => load(root, overrides), (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.exitCode, 2);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, pattern);
    return true;
  });
}

test('the pot name is <flavour>-<arch>-<major>_<minor>, the tag the version', () => {
  const d = load(project());
  assert.equal(d.potName, 'demo-amd64-13_0');
  assert.equal(d.tag, '0.3.0');
  assert.equal(d.freebsd.potRelease, '13.0');
  assert.deepEqual(d.flavours.chain, ['demo', 'demo+4']);
  assert.deepEqual(d.flavours.before, ['fbsd-update']);
  assert.equal(d.export.compression, 6);
  assert.equal(d.export.output, join(d.root, 'out'));
  assert.equal(load(project(), { release: '14.3' }).potName, 'demo-amd64-14_3');
  assert.equal(load(project(), { release: '14.3-RELEASE-p2' }).freebsd.potRelease, '14.3');
  assert.equal(load(project(), { arch: 'arm64' }).potName, 'demo-arm64-13_0');
  assert.equal(importedPotName('matrix-synapse-nomad-amd64-13_0', '0.10.2'), 'matrix-synapse-nomad-amd64-13_0_0_10_2');
  assert.equal(potName('x', 'amd64', parseRelease('15.0')), 'x-amd64-15_0');
});

test('YAML numbers keep the digits they were written with (13.0 is not 13, 14.10 is not 14.1)', () => {
  assert.deepEqual(parseDefinitionYaml('a: 13.0\nb: 14.10\nc: 6\n'), { a: '13.0', b: '14.10', c: '6' });
  assert.equal(load(project(BASE.replace('release: 13.0', 'release: 14.10'))).potName, 'demo-amd64-14_10');
});

test('the chain holds exactly the +1..+3 files that exist (command file or script), +4 last', () => {
  const d = load(project(BASE, ['demo', 'demo+2.sh', 'demo+3', 'demo+4']));
  assert.deepEqual(d.flavours.chain, ['demo', 'demo+2', 'demo+3', 'demo+4']);
});

test('command-line overrides win over the file', () => {
  const d = load(project(), { version: '1.0.0-rc.1', compression: '9', network: 'inherit', installDir: '/tmp/flv', output: '/tmp/o' });
  assert.equal(d.tag, '1.0.0-rc.1');
  assert.equal(d.export.compression, 9);
  assert.equal(d.pot.network, 'inherit');
  assert.equal(d.flavours.installDir, '/tmp/flv');
  assert.equal(d.export.output, '/tmp/o');
});

test('a version that is not semver: exit 2, names the field and the value', () => {
  rejects(project(), { version: '1.0' }, /^--version: '1\.0' is not a semantic version; use MAJOR\.MINOR\.PATCH/);
  rejects(project(), { version: 'v1.0.0' }, /'v1\.0\.0' is not a semantic version/);
  rejects(project(), { version: '=1.0.0' }, /'=1\.0\.0' is not a semantic version/);
  rejects(project(BASE.replace('version: 0.3.0', 'version: 0.3')), {}, /^version: '0\.3' is not a semantic version/);
});

test('a release that is not N.M[-RELEASE][-pN]', () => {
  for (const bad of ['13', '13.0.1', 'thirteen', '13.0-STABLE', '']) {
    rejects(project(), { release: bad }, /is not a FreeBSD release; use N\.M, optionally with -RELEASE or -pN/);
  }
  rejects(project(BASE.replace('release: 13.0', 'release: "13"')), {}, /^freebsd\.release: '13' is not a FreeBSD release/);
});

test('an architecture other than amd64/arm64', () => {
  rejects(project(), { arch: 'i386' }, /^--arch: 'i386' is not supported; use one of amd64, arm64$/);
  rejects(project(BASE.replace('arch: amd64', 'arch: x86_64')), {}, /^freebsd\.arch: 'x86_64' is not supported/);
});

test('an unknown flavour and a missing flavour file', () => {
  rejects(project(BASE.replace('flavour: demo', 'flavour: nosuch')), {}, /^flavour: unknown flavour 'nosuch'/);
  rejects(project(BASE, ['demo', 'demo.sh']), {}, /^flavours\.chain: flavour file '.*demo\+4' \(or 'demo\+4\.sh'\) is missing/);
  const explicit = BASE.replace('  install_dir:', '  chain: [demo, demo+2, demo+4]\n  install_dir:');
  rejects(project(explicit), {}, /^flavours\.chain: flavour file '.*demo\+2' \(or 'demo\+2\.sh'\) is missing; add it or remove 'demo\+2' from the chain$/);
  rejects(project(BASE.replace('  install_dir:', '  chain: [demo+4, demo]\n  install_dir:')), {}, /the last flavour must be 'demo\+4'/);
  rejects(project(), { flavourDir: '/nonexistent/flavours' }, /^flavours\.source: folder '\/nonexistent\/flavours' does not exist/);
});

test('other fields: network, compression, install dir, YAML shape', () => {
  rejects(project(), { network: 'bridge' }, /^pot\.network: 'bridge' is not a pot network type; use inherit or public-bridge$/);
  rejects(project(), { network: 'alias' }, /^pot\.network: 'alias' needs a host address \(pot create -i\), which the build does not pass; use inherit or public-bridge$/);
  rejects(project(), { network: 'private-bridge' }, /^pot\.network: 'private-bridge' needs a bridge \(pot create -B\), which the build does not pass; use inherit or public-bridge$/);
  rejects(project(), { compression: '10' }, /^export\.compression: '10' is not an xz level; use a whole number from 0 to 9$/);
  rejects(project(BASE.replace('/usr/local/etc/pot/flavours', 'relative/dir')), {}, /^flavours\.install_dir: 'relative\/dir' must be an absolute path/);
  rejects(project('flavour: [unclosed\n'), {}, /is not valid YAML/);
  rejects(project('- a list\n'), {}, /is not valid YAML: not a mapping/);
  rejects(project(BASE.replace('freebsd:\n  release: 13.0\n  arch: amd64', 'freebsd: 13')), {}, /^freebsd: expected a mapping of fields/);
  rejects(project(BASE.replace('  arch: amd64', '  relase: 14.3')), {}, /^freebsd\.relase: unknown field; freebsd takes release, releases, arch, allow_eol$/);
  assert.equal(load(project(`${BASE}acceptance:\n  anything: 1\n`)).potName, 'demo-amd64-13_0', 'other areas own their sections');
  assert.throws(() => loadDefinition('nope.yaml', {}, project()), /image definition '.*nope\.yaml' does not exist; pass --definition FILE/);
});

test('resolveChain refuses names that pot cannot take', () => {
  const root = project();
  assert.throws(() => resolveChain('demo', join(root, 'flv'), ['demo', '../etc/passwd', 'demo+4']), /'\.\.\/etc\/passwd' is not a valid flavour name/);
});
