// The PostgreSQL parameters in `nomad-job`: DB* values go to env {}, DBPASSWORD only
// ever to the Nomad Variable's template (even with --plain-env), and --check treats
// DBPASSWORD in env as the problem cook would refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '@cdktf/hcl2json';
import { fixtureProject } from './fixture.js';
import { parseParams } from '../../pipeline/nomad/params-file.js';
import { renderJobFor } from '../../pipeline/nomad/job-file.js';
import { checkJob } from '../../pipeline/nomad/check.js';

const { definition } = fixtureProject();
const REPO = 'https://images.example.org/matrix-synapse-nomad/';
const BASE = 'DOMAIN=example.com\nALERTEMAIL=admin@example.com\nSSLEMAIL=admin@example.com\n';
const expect = { potName: definition.potName, tag: definition.version };

async function check(text: string) {
  return checkJob((await parse('job.nomad', text)) as Record<string, unknown>, expect);
}

test('DBHOST & co. go to env, DBPASSWORD is read from the Nomad Variable; the job passes its check', async () => {
  const params = parseParams(`${BASE}DBHOST=db.example.org\nDBPORT=6432\nDBNAME=matrix\nDBUSER=matrix\nDBSSLMODE=verify-full\n`, 'p.env');
  const job = renderJobFor(definition, { repoUrl: REPO, params });
  assert.match(job, /^\s+DBHOST\s+= "db\.example\.org"$/m);
  assert.match(job, /^\s+DBSSLMODE\s+= "verify-full"$/m);
  assert.match(job, /^DBPASSWORD=\{\{ \.DBPASSWORD \}\}$/m);
  assert.match(job, /nomad var put nomad\/jobs\/matrix-synapse MYSHAREDSECRET=\.\.\. DBPASSWORD=\.\.\./);
  const result = await check(job);
  assert.deepEqual(result.problems, []);
  assert.equal(result.parameters.DBPASSWORD, 'template');
});

test('--plain-env: the other secrets go to env, DBPASSWORD still comes from the Variable', () => {
  const params = parseParams(`${BASE}DBHOST=db.example.org\nMYSHAREDSECRET=0123456789abcdef0123\n`, 'p.env');
  const job = renderJobFor(definition, { repoUrl: REPO, params, plainEnv: true });
  assert.match(job, /^\s+MYSHAREDSECRET\s+= "0123456789abcdef0123"$/m);
  assert.doesNotMatch(job, /^\s+DBPASSWORD\s+=/m);
  assert.match(job, /^DBPASSWORD=\{\{ \.DBPASSWORD \}\}$/m);
  assert.doesNotMatch(job, /^MYSHAREDSECRET=\{\{/m);
});

test('DBPASSWORD in --params is refused, with or without --plain-env, naming the Variable', () => {
  const params = parseParams(`${BASE}DBHOST=db.example.org\nDBPASSWORD=secret\n`, 'p.env');
  assert.throws(() => renderJobFor(definition, { repoUrl: REPO, params }),
    /--params: DBPASSWORD is a secret and stays out of the job file; remove it and run 'nomad var put nomad\/jobs\/matrix-synapse DBPASSWORD=\.\.\.' \(cook takes DBPASSWORD only from the Nomad Variable, even with --plain-env\)/);
  assert.throws(() => renderJobFor(definition, { repoUrl: REPO, params: { ...params, MYSHAREDSECRET: '0123456789abcdef0123' }, plainEnv: true }),
    /DBPASSWORD is a secret .*even with --plain-env/);
});

test('DB* values are checked like the others', () => {
  assert.throws(() => parseParams(`${BASE}DBSSLMODE=prefer\n`, 'p.env'), /p\.env:4: DBSSLMODE is 'prefer'; use disable, require or verify-full/);
  assert.throws(() => parseParams(`${BASE}DBPORT=70000\n`, 'p.env'), /DBPORT is '70000'; use a port number/);
  assert.throws(() => parseParams(`${BASE}DBHOST=db host\n`, 'p.env'), /DBHOST contains whitespace/);
});

test('--check: DBPASSWORD in env (or an env = true template) is a problem, DBHOST without DBPASSWORD too', async () => {
  const params = parseParams(`${BASE}DBHOST=db.example.org\n`, 'p.env');
  const job = renderJobFor(definition, { repoUrl: REPO, params });
  const inEnv = await check(job.replace(/(\s+DBHOST\s+= "db\.example\.org"\n)/, '$1        DBPASSWORD = "secret"\n'));
  assert.ok(inEnv.problems.some((p) => /env\.DBPASSWORD is refused by cook from the environment; it comes only from the Nomad Variable/.test(p)), inEnv.problems.join('\n'));
  assert.ok(inEnv.problems.every((p) => !p.includes('secret"')));
  const asEnv = await check(job.replace('env         = false', 'env         = true'));
  assert.ok(asEnv.problems.some((p) => /DBPASSWORD is refused by cook from the environment.*env = true template/.test(p)), asEnv.problems.join('\n'));
  const missing = await check(job.replace('DBPASSWORD={{ .DBPASSWORD }}\n', ''));
  assert.ok(missing.problems.some((p) => /required parameter DBPASSWORD is not set; add it to the template that reads the Nomad Variable into secrets\/matrix-synapse\.env$/.test(p)), missing.problems.join('\n'));
});
