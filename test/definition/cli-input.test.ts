// Every invalid definition input through the real CLI: exit 2, one line on
// stderr naming field, value and what is allowed, no stack, nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE_FLAVOURS = join(PROJECT_ROOT, 'test', 'fixtures', 'flavours');

test('invalid inputs: exit 2 with one line each, before the build touches anything (build and plan)', async () => {
  const dir = tempDir();
  const output = join(dir, 'out');
  const onlyBase = join(dir, 'only-base');
  // a flavour folder whose chain lacks +4
  mkdirSync(onlyBase);
  writeFileSync(join(onlyBase, 'matrix-synapse-nomad'), '');
  const unknown = join(dir, 'unknown.yaml');
  writeFileSync(unknown, `flavour: no-such-flavour\nversion: 1.0.0\nflavours:\n  source: ${FIXTURE_FLAVOURS}\n`);

  const cases: Array<[string[], RegExp]> = [
    [['--tag', '1.0'], /^pot-image: --tag: '1\.0' is not a semantic version; use MAJOR\.MINOR\.PATCH/],
    [['--release', '13'], /^pot-image: --release: '13' is not a FreeBSD release; use N\.M, optionally with -RELEASE or -pN/],
    [['--release', '13.0-CURRENT'], /^pot-image: --release: '13\.0-CURRENT' is not a FreeBSD release/],
    [['--arch', 'riscv64'], /^pot-image: --arch: 'riscv64' is not supported; use one of amd64, arm64$/],
    [['--definition', unknown], /^pot-image: flavour: unknown flavour 'no-such-flavour'/],
    [['--flavour-dir', onlyBase], /^pot-image: flavours\.chain: flavour file '.*matrix-synapse-nomad\+4' \(or 'matrix-synapse-nomad\+4\.sh'\) is missing/],
    [['--compression', 'best'], /^pot-image: export\.compression: 'best' is not an xz level/],
    [['--no-such-option'], /^pot-image: build: Unknown option '--no-such-option'.*pot-image build --help/],
  ];
  const results = await Promise.all(cases.map(([args]) => runCli(['build', '--flavour-dir', FIXTURE_FLAVOURS, '--output', output, ...args])));
  results.forEach((r, i) => {
    const [args, pattern] = cases[i]!;
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: one line, got ${r.stderr}`);
    assert.match(lines[0]!, pattern);
    assert.equal(r.stdout, '');
  });
  assert.equal(existsSync(output), false, 'nothing written');

  const dry = await runCli(['plan', '--release', '14.3.1', '--flavour-dir', FIXTURE_FLAVOURS]);
  assert.equal(dry.code, 2);
  assert.match(dry.stderr.trim(), /^pot-image: --release: '14\.3\.1' is not a FreeBSD release[^\n]*$/);
});
