import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { InputError } from '../../pipeline/errors.js';
import { checkVersionsAgree, tagFromEnvironment } from '../../pipeline/release/versions.js';
import { topChangelogVersion } from '../../pipeline/release/changelog.js';
import { parse as parseYaml } from 'yaml';
import { readFileSync } from 'node:fs';

function changelog(text: string): string {
  const path = join(tempDir(), 'CHANGELOG.md');
  writeFileSync(path, text);
  return path;
}

const oneLine = (e: unknown) => e instanceof InputError && !e.message.includes('\n');

test('the shipped definition, CHANGELOG top entry agree', () => {
  const version = String((parseYaml(readFileSync(join(PROJECT_ROOT, 'image', 'image.yaml'), 'utf8')) as { version: string }).version);
  const r = checkVersionsAgree({ definitionVersion: version, changelogPath: join(PROJECT_ROOT, 'image', 'CHANGELOG.md'), env: {} });
  assert.equal(r.version, version);
  assert.equal(r.tag, undefined);
});

test('top entry: heading forms and potluck bare lines', () => {
  assert.equal(topChangelogVersion(changelog('# Changelog\n\nintro\n\n## 0.11.0 - 2026-11-26\n\n* x\n\n## 0.10.2\n')), '0.11.0');
  assert.equal(topChangelogVersion(changelog('# Changelog\n## [1.2.3] 2026-01-01\n')), '1.2.3');
  assert.equal(topChangelogVersion(changelog('0.10.2\n\n* Updating\n\n---\n\n0.10.1\n')), '0.10.2');
  assert.equal(topChangelogVersion(changelog('# C\n```\n## 9.9.9\n```\n## 0.1.0\n')), '0.1.0');
});

test('mismatch between definition and CHANGELOG: one line naming both versions', () => {
  const path = changelog('# Changelog\n\n## 0.10.2\n');
  assert.throws(() => checkVersionsAgree({ definitionVersion: '0.11.0', changelogPath: path, env: {} }), (e: unknown) => {
    assert.ok(oneLine(e));
    assert.match((e as Error).message, /0\.11\.0.*0\.10\.2/);
    return true;
  });
});

test('a top entry that is not a version, a missing file, an empty file', () => {
  assert.throws(() => checkVersionsAgree({ definitionVersion: '0.11.0', changelogPath: changelog('## Unreleased\n## 0.11.0\n'), env: {} }), /does not name a version/);
  assert.throws(() => checkVersionsAgree({ definitionVersion: '0.11.0', changelogPath: '/nonexistent/CHANGELOG.md', env: {} }), /does not exist/);
  assert.throws(() => checkVersionsAgree({ definitionVersion: '0.11.0', changelogPath: changelog('# Changelog\n'), env: {} }), /no version entry/);
});

test('git tag: v-prefixed match passes, others fail with one line', () => {
  const path = changelog('## 0.11.0\n');
  assert.deepEqual(checkVersionsAgree({ definitionVersion: '0.11.0', changelogPath: path, gitTag: 'v0.11.0', env: {} }), { version: '0.11.0', tag: 'v0.11.0' });
  for (const [tag, re] of [['v0.11.1', /git tag v0\.11\.1 names 0\.11\.1/], ['0.11.0', /not a release tag/], ['release-1', /not a release tag/]] as const) {
    assert.throws(() => checkVersionsAgree({ definitionVersion: '0.11.0', changelogPath: path, gitTag: tag, env: {} }), (e: unknown) => {
      assert.ok(oneLine(e));
      assert.match((e as Error).message, re);
      return true;
    });
  }
});

test('the tag of a GitHub tag build is checked when no tag is passed', () => {
  const path = changelog('## 0.11.0\n');
  assert.equal(tagFromEnvironment({ GITHUB_REF_TYPE: 'branch', GITHUB_REF_NAME: 'main' }), undefined);
  assert.equal(tagFromEnvironment({ GITHUB_REF_TYPE: 'tag', GITHUB_REF_NAME: 'v0.11.0' }), 'v0.11.0');
  assert.equal(checkVersionsAgree({ definitionVersion: '0.11.0', changelogPath: path, env: { GITHUB_REF_TYPE: 'tag', GITHUB_REF_NAME: 'v0.11.0' } }).tag, 'v0.11.0');
  assert.throws(() => checkVersionsAgree({ definitionVersion: '0.11.0', changelogPath: path, env: { GITHUB_REF_TYPE: 'tag', GITHUB_REF_NAME: 'v0.12.0' } }), InputError);
  // a branch build checks no tag
  assert.equal(checkVersionsAgree({ definitionVersion: '0.11.0', changelogPath: path, env: { GITHUB_REF_TYPE: 'branch', GITHUB_REF_NAME: 'v9' } }).tag, undefined);
});
