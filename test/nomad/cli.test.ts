// pot-image nomad-job and check-version as a user runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { fixtureProject, SHIPPED_JOB } from './fixture.js';

const fx = fixtureProject();
const def = ['--definition', fx.definitionFile];

test('nomad-job --check passes the shipped job', async () => {
  const r = await runCli(['nomad-job', '--check', SHIPPED_JOB, ...def]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /matrix-synapse\.nomad: ok: matrix-synapse-nomad-amd64-\d+_\d+ \S+, data at \/mnt/);
});

test('nomad-job --check: wrong mount, pot name and tag give one line each and exit 1', async () => {
  const dir = tempDir();
  const bad = join(dir, 'bad.nomad');
  writeFileSync(bad, readFileSync(SHIPPED_JOB, 'utf8')
    .replace('"/mnt/matrixdata:/mnt"', '"/mnt/matrixdata:/mnt/matrixdata"')
    .replace(/pot(\s+)= "[^"]+"/, 'pot$1= "matrix-synapse-nomad-amd64-13_1"')
    .replace(/tag(\s+)= "[^"]+"/, 'tag$1= "0.10.2"'));
  const r = await runCli(['nomad-job', '--check', bad, ...def]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 4, r.stderr);
  assert.match(lines[0] ?? '', /bad\.nomad: task "synapse": config\.pot is "matrix-synapse-nomad-amd64-13_1" but the image's is/);
  assert.match(lines[1] ?? '', /bad\.nomad: task "synapse": config\.tag is "0\.10\.2" but the image's is/);
  assert.match(lines[2] ?? '', /bad\.nomad: task "synapse": no mount puts the data at \/mnt inside the jail/);
  assert.match(lines[3] ?? '', /3 problems; fix them or write a fresh job with 'pot-image nomad-job'/);
});

test('nomad-job --check: a file that is not HCL, a missing file: exit 2, one line', async () => {
  const broken = join(tempDir(), 'broken.nomad');
  writeFileSync(broken, 'job "x" {\n  group "g" { = }\n');
  for (const [file, re] of [[broken, /broken\.nomad is not valid HCL: .*broken\.nomad:2/], ['/nonexistent/job.nomad', /job file '\/nonexistent\/job\.nomad' does not exist/]] as const) {
    const r = await runCli(['nomad-job', '--check', file, ...def]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

test('nomad-job renders with a parameter file to --out, and the result checks', async () => {
  const dir = tempDir();
  const params = join(dir, 'params.env');
  writeFileSync(params, 'DOMAIN=example.net\nALERTEMAIL=ops@example.net\nSSLEMAIL=ops@example.net\n');
  const out = join(dir, 'job.nomad');
  const r = await runCli(['nomad-job', ...def, '--repo-url', 'https://pots.example.net/m/', '--tag', '0.11.0', '--release', '14.3', '--datacenter', 'eu1', '--params', params, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /pot      = "matrix-synapse-nomad-amd64-14_3"/);
  assert.match(text, /datacenters = \["eu1"\]/);
  const c = await runCli(['nomad-job', '--check', out, ...def, '--release', '14.3', '--repo-url', 'https://pots.example.net/m/']);
  assert.equal(c.code, 0, c.stderr);
  // the same job checked against the 13.0 image names the pot mismatch
  const c2 = await runCli(['nomad-job', '--check', out, ...def]);
  assert.equal(c2.code, 1);
  assert.match(c2.stderr, /config\.pot is "matrix-synapse-nomad-amd64-14_3"/);
});

test('nomad-job with bad input: exit 2, one line, no file written, secret not echoed', async () => {
  const dir = tempDir();
  const params = join(dir, 'params.env');
  writeFileSync(params, 'DOMAIN=example.net\nALERTEMAIL=ops@example.net\nSSLEMAIL=ops@example.net\nMYSHAREDSECRET=hunter2-secret-value\n');
  const out = join(dir, 'job.nomad');
  const r = await runCli(['nomad-job', ...def, '--repo-url', 'https://pots.example.net/', '--params', params, '--out', out]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /MYSHAREDSECRET is a secret and stays out of the job file/);
  assert.doesNotMatch(r.stderr + r.stdout, /hunter2/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(dir), ['params.env'], 'no temp file left behind');
  const u = await runCli(['nomad-job', ...def, '--bogus']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /nomad-job: .*--bogus.*pot-image nomad-job --help/);
});

test('nomad-job --params --plain-env: a value the driver\'s shell would expand is refused in one line, nothing written', async () => {
  const dir = tempDir();
  const params = join(dir, 'p.env');
  const out = join(dir, 'job.nomad');
  writeFileSync(params, 'DOMAIN=example.org\nALERTEMAIL=a@example.org\nSSLEMAIL=a@example.org\nMYSHAREDSECRET=0123456789abcdef$(touch /tmp/x)\n');
  const r = await runCli(['nomad-job', '--params', params, '--plain-env', '--repo-url', 'https://x.example/', '--out', out, ...def]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /p\.env:4: MYSHAREDSECRET contains whitespace or one of .*put it in the Nomad Variable nomad\/jobs\/matrix-synapse instead/);
  assert.ok(!r.stderr.includes('0123456789abcdef') && !r.stdout.includes('0123456789abcdef'));
  assert.ok(!existsSync(out));
});

test('nomad-job renders the job for the release asked; without --release, the first one and a note naming the others', async () => {
  const r15 = await runCli(['nomad-job', '--release', '15.1', '--repo-url', 'https://pots.example.net/m/']);
  assert.equal(r15.code, 0, r15.stderr);
  assert.match(r15.stdout, /pot {6}= "matrix-synapse-nomad-amd64-15_1"/);
  const first = await runCli(['nomad-job', '--repo-url', 'https://pots.example.net/m/']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /pot {6}= "matrix-synapse-nomad-amd64-14_5"/);
  assert.match(first.stderr, /note: this is the job for FreeBSD 14\.5 clients \(matrix-synapse-nomad-amd64-14_5\); for the others pass --release 15\.1/);
});
