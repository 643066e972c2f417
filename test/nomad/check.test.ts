// checkJob: one clear line per problem for jobs that do not fit the image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from '@cdktf/hcl2json';
import { SHIPPED_JOB } from './fixture.js';
import { checkJob, templateEnvKeys, type JobExpectations } from '../../pipeline/nomad/check.js';

const shipped = readFileSync(SHIPPED_JOB, 'utf8');
const pot = /pot\s+= "([^"]+)"/.exec(shipped)?.[1] ?? '';
const tag = /tag\s+= "([^"]+)"/.exec(shipped)?.[1] ?? '';
const expect = { potName: pot, tag };

async function problems(text: string, exp: JobExpectations = expect): Promise<string[]> {
  return checkJob((await parse('job.nomad', text)) as Record<string, unknown>, exp).problems;
}

function only(list: string[], re: RegExp): void {
  assert.equal(list.length, 1, list.join('\n'));
  assert.match(list[0] ?? '', re);
  assert.ok(!(list[0] ?? '').includes('\n'));
}

test('the data mount must reach /mnt inside the jail', async () => {
  only(await problems(shipped.replace('"/mnt/matrixdata:/mnt"', '"/mnt/matrixdata:/mnt/matrixdata"')),
    /no mount puts the data at \/mnt inside the jail \(found "\/mnt\/matrixdata:\/mnt\/matrixdata"\).*use mount = \["\/mnt\/matrixdata:\/mnt"\]/);
});

test('wrong pot name, wrong tag, wrong repository', async () => {
  only(await problems(shipped.replace(`"${pot}"`, '"matrix-synapse-nomad-amd64-12_3"')), /config\.pot is "matrix-synapse-nomad-amd64-12_3" but the image's is "matrix-synapse-nomad-amd64-\d+_\d+"/);
  only(await problems(shipped.replace(`tag      = "${tag}"`, 'tag      = "0.10.2"')), new RegExp(`config\\.tag is "0\\.10\\.2" but the image's is "${tag.replace(/\./g, '\\.')}"`));
  only(await problems(shipped, { ...expect, repoUrl: 'https://elsewhere.example/' }), /config\.image is ".*" but the image is published at "https:\/\/elsewhere\.example\/"/);
  only(await problems(shipped.replace(`tag      = "${tag}"`, 'tag      = "${var.tag}"')), /config\.tag is the expression/);
});

test('required parameters: DOMAIN in env, the shared secret in the template; SSLEMAIL unless NOSSL', async () => {
  only(await problems(shipped.replace(/^\s+DOMAIN\s+=.*\n/m, '')), /required parameter DOMAIN is not set; add it to env \{\}/);
  only(await problems(shipped.replace(/^MYSHAREDSECRET=.*\n/m, '')), /required parameter MYSHAREDSECRET is not set; add it to the template that reads the Nomad Variable into secrets\/matrix-synapse\.env/);
  only(await problems(shipped.replace(/^\s+SSLEMAIL\s+=.*\n/m, '')), /required parameter SSLEMAIL is not set/);
  assert.deepEqual(await problems(shipped.replace(/^\s+SSLEMAIL\s+=.*\n/m, '').replace(/NOSSL(\s+)= "false"/, 'NOSSL$1= "true"')), []);
  only(await problems(shipped.replace(/DOMAIN(\s+)= "[^"]*"/, 'DOMAIN$1= ""')), /required parameter DOMAIN is empty/);
});

test('parameters given as cook flags in args count', async () => {
  const text = shipped.replace(/^\s+DOMAIN\s+=.*\n/m, '').replace('args     = []', 'args     = ["-d", "example.com"]');
  const result = checkJob((await parse('job.nomad', text)) as Record<string, unknown>, expect);
  assert.deepEqual(result.problems, []);
  assert.equal(result.parameters.DOMAIN, 'args');
});

test('deprecated resources.network, unknown driver options, wrong command, missing health check', async () => {
  only(await problems(shipped.replace('memory = 1024', 'memory = 1024\n        network {\n          mbits = 10\n        }')), /resources \{ network \} is deprecated since Nomad 0\.12/);
  only(await problems(shipped.replace('args     = []', 'args     = []\n        volumes  = ["/a:/b"]')), /config option 'volumes' is not a pot driver option \(nomad-pot-driver 0\.10\.0 takes image, pot, tag/);
  only(await problems(shipped.replace('"/usr/local/bin/cook"', '"/usr/local/bin/synctl"')), /config\.command is "\/usr\/local\/bin\/synctl" but the image's is "\/usr\/local\/bin\/cook"/);
  only(await problems(shipped.replace('"/health"', '"/"')), /no service check of type "http" on \/health/);
  only(await problems(shipped.replace('port "matrix" { static = 8448 }', '')), /group network has no port "matrix"/);
});

test('command may be left out (the image starts cook), but not when args are given', async () => {
  assert.deepEqual(await problems(shipped.replace(/^\s+command\s+=.*\n/m, '')), []);
  only(await problems(shipped.replace(/^\s+command\s+=.*\n/m, '').replace('args     = []', 'args     = ["-e", "false"]')), /config\.command is missing; set command = "\/usr\/local\/bin\/cook"/);
});

test('structure problems: no pot task, two jobs', async () => {
  only(await problems(shipped.replace('driver = "pot"', 'driver = "exec"')), /expected one task with driver = "pot", found 0/);
  only(await problems(`${shipped}\njob "other" {\n}\n`), /expected exactly one job block, found 2/);
});

test('templateEnvKeys reads KEY= lines, also after a template action', () => {
  assert.deepEqual(templateEnvKeys('{{ with nomadVar "x" -}}\nA={{ .A }}\n  B=1\n{{ end }}C=3\nnot a key\n'), ['A', 'B', 'C']);
});

test('secrets template: cook\'s file counts; env = true still counts, with a note; other files do not', async () => {
  const check = async (text: string) => checkJob((await parse('job.nomad', text)) as Record<string, unknown>, expect);
  const shippedResult = await check(shipped);
  assert.equal(shippedResult.parameters.MYSHAREDSECRET, 'template');
  assert.deepEqual(shippedResult.notes, []);

  const viaEnv = await check(shipped.replace('"secrets/matrix-synapse.env"', '"secrets/env"').replace('env         = false', 'env         = true'));
  assert.deepEqual(viaEnv.problems, []);
  assert.equal(viaEnv.parameters.MYSHAREDSECRET, 'template');
  assert.equal(viaEnv.notes.length, 1, viaEnv.notes.join('\n'));
  assert.match(viaEnv.notes[0] ?? '', /MYSHAREDSECRET, SMTPPASS reach the jail through an env = true template.*destination = "secrets\/matrix-synapse\.env" with env = false/);

  const secretsDirVar = await check(shipped.replace('"secrets/matrix-synapse.env"', '"${NOMAD_SECRETS_DIR}/matrix-synapse.env"'));
  assert.deepEqual(secretsDirVar.problems, []);

  const elsewhere = await problems(shipped.replace('"secrets/matrix-synapse.env"', '"secrets/other.env"'));
  assert.equal(elsewhere.length, 2, elsewhere.join('\n'));
  assert.match(elsewhere[0] ?? '', /required parameter MYSHAREDSECRET is not set; add it to the template that reads the Nomad Variable into secrets\/matrix-synapse\.env/);
  assert.match(elsewhere[1] ?? '', /required parameter SMTPPASS is not set/);
});

test('env values the pot driver\'s shell would split or expand are problems, named without the value', async () => {
  const list = await problems(shipped.replace(/SMTPUSER(\s+)= "[^"]*"/, 'SMTPUSER$1= "a b;c"'));
  only(list, /env\.SMTPUSER contains whitespace or one of .*; put it in the Nomad Variable nomad\/jobs\/matrix-synapse instead/);
  assert.ok(!(list[0] ?? '').includes('a b;c'));
});
