// stage flavours: flat copy into pot's flavour folder, X.d/ payload included,
// permissions kept, unchanged files skipped, other flavours never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flavourFiles, stageFlavours } from '../../pipeline/steps/stage-flavours.js';
import { tempDir } from '../helpers/tmp.js';
import { FIXTURE_FLAVOURS } from './builder-sandbox.js';

const CHAIN = ['matrix-synapse-nomad', 'matrix-synapse-nomad+4'];
const mode = (p: string) => statSync(p).mode & 0o7777;

test('flavourFiles lists the command file, the script and the payload', () => {
  assert.deepEqual(flavourFiles(FIXTURE_FLAVOURS, 'matrix-synapse-nomad'), [
    'matrix-synapse-nomad',
    'matrix-synapse-nomad.sh',
    'matrix-synapse-nomad.d/conf/example.yaml',
    'matrix-synapse-nomad.d/cook',
  ]);
  assert.deepEqual(flavourFiles(FIXTURE_FLAVOURS, 'matrix-synapse-nomad+4'), ['matrix-synapse-nomad+4']);
});

test('copies flat with permissions, skips unchanged files, leaves other flavours alone', () => {
  const install = tempDir();
  writeFileSync(join(install, 'fbsd-update.sh'), 'stock\n', { mode: 0o700 });
  writeFileSync(join(install, 'other-flavour'), 'other\n');
  const notes: string[] = [];
  const first = stageFlavours(FIXTURE_FLAVOURS, install, CHAIN, (l) => notes.push(l));
  assert.equal(first.copied.length, 5);
  assert.equal(mode(join(install, 'matrix-synapse-nomad.sh')), 0o755);
  assert.equal(mode(join(install, 'matrix-synapse-nomad.d', 'cook')), 0o755);
  assert.equal(mode(join(install, 'matrix-synapse-nomad')), 0o644);
  assert.equal(readFileSync(join(install, 'matrix-synapse-nomad.d', 'conf', 'example.yaml'), 'utf8'), 'fixture: true\n');
  assert.ok(notes.some((n) => /^install -p -m 0755 .*\/matrix-synapse-nomad\.d\/cook .*\/matrix-synapse-nomad\.d\/cook$/.test(n)));

  const second = stageFlavours(FIXTURE_FLAVOURS, install, CHAIN, () => {});
  assert.deepEqual([second.copied.length, second.unchanged.length], [0, 5]);

  // a changed mode alone counts as a change
  chmodSync(join(install, 'matrix-synapse-nomad.d', 'cook'), 0o644);
  const third = stageFlavours(FIXTURE_FLAVOURS, install, CHAIN, () => {});
  assert.deepEqual(third.copied, ['matrix-synapse-nomad.d/cook']);
  assert.equal(mode(join(install, 'matrix-synapse-nomad.d', 'cook')), 0o755);

  assert.equal(readFileSync(join(install, 'fbsd-update.sh'), 'utf8'), 'stock\n');
  assert.equal(mode(join(install, 'fbsd-update.sh')), 0o700);
  assert.equal(readFileSync(join(install, 'other-flavour'), 'utf8'), 'other\n');
});

test('stale payload of our own flavour is removed; a dry run writes nothing', () => {
  const install = tempDir();
  mkdirSync(join(install, 'matrix-synapse-nomad.d'), { recursive: true });
  writeFileSync(join(install, 'matrix-synapse-nomad.d', 'old-file'), 'x');
  mkdirSync(join(install, 'another.d'));
  writeFileSync(join(install, 'another.d', 'keep'), 'x');
  const r = stageFlavours(FIXTURE_FLAVOURS, install, CHAIN, () => {});
  assert.deepEqual(r.removed, ['matrix-synapse-nomad.d/old-file']);
  assert.ok(existsSync(join(install, 'another.d', 'keep')));

  const empty = join(tempDir(), 'not-there');
  const notes: string[] = [];
  stageFlavours(FIXTURE_FLAVOURS, empty, CHAIN, (l) => notes.push(l), true);
  assert.equal(existsSync(empty), false);
  assert.equal(notes[0], `mkdir -p ${empty}`);
  assert.equal(notes.filter((n) => n.startsWith('install ')).length, 5);
});
