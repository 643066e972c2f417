// Issue 11 row 13: --control-key and the job's copy/mount entries reach the Nomad client's
// shell through nomad-pot-driver (`pot copy-in -s SRC -d DEST` run with sh -c, split at ':').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { fixtureProject, SHIPPED_JOB } from './fixture.js';

const fx = fixtureProject();
const def = ['--definition', fx.definitionFile];
const dir = tempDir();
const params = join(dir, 'params.env');
writeFileSync(params, 'DOMAIN=example.net\nALERTEMAIL=ops@example.net\nSSLEMAIL=ops@example.net\nCONTROLUSER=true\n');

test('nomad-job refuses a --control-key the driver would split or run (exit 2), writing nothing', async () => {
  const out = join(dir, 'job.nomad');
  const hostile: Array<[string, RegExp]> = [
    ['/root/k.pub;touch${IFS}/tmp/x', /shell metacharacter/],
    ['/root/my key.pub', /white space/],
    ['/root/k.pub:/etc/rc.conf', /contains ':'/],
    ['/root/k.pub\ntouch /tmp/x', /white space/],
    ['root/k.pub', /not an absolute path/],
    ['$(id)', /shell metacharacter/],
  ];
  for (const [key, re] of hostile) {
    const r = await runCli(['nomad-job', ...def, '--repo-url', 'https://images.example.org/', '--params', params, '--control-key', key, '--out', out]);
    assert.equal(r.code, 2, `${JSON.stringify(key)}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /--control-key: /);
    assert.match(r.stderr, re);
    assert.equal(existsSync(out), false);
  }
  const ok = await runCli(['nomad-job', ...def, '--repo-url', 'https://images.example.org/', '--params', params, '--control-key', '/root/.ssh/id_ed25519.pub', '--out', out]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(readFileSync(out, 'utf8'), /copy\s+= \["\/root\/\.ssh\/id_ed25519\.pub:\/root\/importauthkey"\]/);
});

test('nomad-job --check flags copy and mount entries that reach the shell or split wrongly (exit 1)', async () => {
  const shipped = readFileSync(SHIPPED_JOB, 'utf8');
  const bad = join(dir, 'bad.nomad');
  assert.match(shipped, /\n\s+copy\s+= \[.*\]/);
  writeFileSync(bad, shipped.replace(/\n\s+copy\s+= \[.*\]/,
    '\n        copy = ["/root/k.pub;touch$${IFS}/tmp/x:/root/importauthkey", "/root/a b:/root/c", "/a:b:/root/importauthkey", "${NOMAD_TASK_DIR}/k.pub:/root/k"]'));
  const r = await runCli(['nomad-job', '--check', bad, ...def]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.match(lines.find((l) => l.includes('touch')) ?? '', /config\.copy entry .*: the host path contains white space or a shell metacharacter/);
  assert.match(lines.find((l) => l.includes('a b')) ?? '', /config\.copy entry "\/root\/a b:\/root\/c": the host path contains white space/);
  assert.match(lines.find((l) => l.includes('/a:b')) ?? '', /config\.copy entry "\/a:b:\/root\/importauthkey": the jail path contains ':'/);
  assert.ok(!lines.some((l) => l.includes('NOMAD_TASK_DIR')), 'an interpolated task folder is fine');
  assert.match(lines.at(-1) ?? '', /3 problems/);
});
