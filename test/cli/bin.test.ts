// The installed `pot-image` is npm's symlink to dist/pipeline/cli/main.js: it must run
// through that link (npx pot-image, node_modules/.bin/pot-image), not only by its own path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const compiled = join(PROJECT_ROOT, 'dist', 'pipeline', 'cli', 'main.js');

test('pot-image runs through a bin symlink', { skip: !existsSync(compiled) && 'dist/ not built (npm test builds it first)' }, () => {
  const link = join(tempDir(), 'pot-image');
  symlinkSync(compiled, link);
  const r = spawnSync(process.execPath, [link, 'help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^commands:$/m);
  const bad = spawnSync(process.execPath, [link, 'no-such-command'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^pot-image: unknown command 'no-such-command'/);
});
