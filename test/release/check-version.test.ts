// pot-image check-version as the release workflow runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';

test('check-version: agrees for the project; a wrong tag exits 2 with one line', async () => {
  const ok = await runCli(['check-version'], { env: { GITHUB_REF_TYPE: '', GITHUB_REF_NAME: '' } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^versions agree: \d+\.\d+\.\d+ /);
  const version = /^versions agree: (\S+)/.exec(ok.stdout)?.[1];
  const tagged = await runCli(['check-version', '--tag', `v${version}`]);
  assert.equal(tagged.code, 0, tagged.stderr);
  assert.match(tagged.stdout, new RegExp(`tag v${version?.replace(/\./g, '\\.')}`));
  const bad = await runCli(['check-version', '--tag', 'v99.0.0']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /git tag v99\.0\.0 names 99\.0\.0 but the image definition and .*CHANGELOG\.md say/);
  const env = await runCli(['check-version'], { env: { GITHUB_REF_TYPE: 'tag', GITHUB_REF_NAME: 'v99.0.0' } });
  assert.equal(env.code, 2);
});
