// The shipped job image/matrix-synapse.nomad, parsed with HashiCorp's HCL parser: structure,
// pot driver options against the driver's documented list, and agreement with the image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from '@cdktf/hcl2json';
import { fixtureProject, SHIPPED_JOB } from './fixture.js';
import { POT_DRIVER_OPTION_NAMES, POT_DRIVER_OPTIONS } from '../../pipeline/nomad/driver-options.js';
import { checkJob } from '../../pipeline/nomad/check.js';
import { EXAMPLE_REPO_URL, renderJobFor } from '../../pipeline/nomad/job-file.js';
import { IMAGE_PARAMETERS, SECRET_PARAMETERS } from '../../pipeline/nomad/parameters.js';

type Obj = Record<string, any>;
const text = readFileSync(SHIPPED_JOB, 'utf8');
const { definition } = fixtureProject();

async function parsed(): Promise<{ job: Obj; group: Obj; task: Obj; config: Obj }> {
  const root = (await parse('matrix-synapse.nomad', text)) as Obj;
  const jobs = Object.entries(root.job as Obj);
  assert.equal(jobs.length, 1);
  const job = (jobs[0]?.[1] as Obj[])[0] as Obj;
  const group = (Object.values(job.group as Obj)[0] as Obj[])[0] as Obj;
  const task = (Object.values(group.task as Obj)[0] as Obj[])[0] as Obj;
  return { job, group, task, config: task.config[0] as Obj };
}

test('shipped job: group-level network with the three ports, nothing deprecated', async () => {
  const { group, task } = await parsed();
  assert.deepEqual(Object.keys(group.network[0].port).sort(), ['http', 'https', 'matrix']);
  // static host ports: ACME needs 80, the .well-known delegation names 443, federation 8448
  assert.deepEqual(Object.fromEntries(Object.entries(group.network[0].port as Obj).map(([k, v]) => [k, v[0].static])), { http: 80, https: 443, matrix: 8448 });
  assert.equal(task.resources[0].network, undefined, 'no network inside resources');
  assert.doesNotMatch(text, /\bmbits\b/);
});

test('shipped job: pot task config names the image and uses only documented driver options', async () => {
  const { task, config } = await parsed();
  assert.equal(task.driver, 'pot');
  for (const key of Object.keys(config)) assert.ok(POT_DRIVER_OPTION_NAMES.includes(key), `'${key}' is a pot driver option`);
  for (const key of ['image', 'pot', 'tag', 'command', 'args', 'copy', 'mount', 'port_map']) assert.ok(key in config, `config.${key}`);
  assert.equal(config.pot, definition.potName);
  assert.equal(config.tag, definition.version);
  assert.equal(config.image, definition.publish.publicUrl ?? EXAMPLE_REPO_URL);
  assert.equal(config.command, '/usr/local/bin/cook');
  assert.deepEqual(config.mount, ['/mnt/matrixdata:/mnt']);
  assert.deepEqual(config.copy, ['/root/.ssh/id_rsa.pub:/root/importauthkey']);
  assert.deepEqual(config.port_map, { http: '80', https: '443', matrix: '8448' });
});

test('shipped job: health check on /health with check_restart; resources sized', async () => {
  const { task } = await parsed();
  const service = task.service[0] as Obj;
  assert.equal(service.port, 'http');
  const check = service.check[0] as Obj;
  assert.equal(check.type, 'http');
  assert.equal(check.path, '/health');
  assert.ok(check.check_restart?.[0]?.limit >= 1, 'check_restart with a limit');
  assert.equal(task.resources[0].memory, 1024);
  assert.ok(task.resources[0].cpu > 0);
});

test('shipped job: secrets come from the Nomad Variable, not the job file', async () => {
  const { task } = await parsed();
  const env = task.env[0] as Obj;
  for (const secret of SECRET_PARAMETERS) assert.equal(env[secret], undefined, `${secret} is not in env {}`);
  const template = task.template[0] as Obj;
  // cook reads the file itself (the driver mounts secrets/ at /secrets): never through set-env
  assert.equal(template.env, false);
  assert.equal(template.destination, 'secrets/matrix-synapse.env');
  assert.match(template.data, /\{\{ with nomadVar "nomad\/jobs\/matrix-synapse" -\}\}/);
  assert.match(template.data, /^MYSHAREDSECRET=\{\{ \.MYSHAREDSECRET \}\}$/m);
  // every plain required parameter is in env {}
  for (const p of IMAGE_PARAMETERS) if (p.requirement === 'always' && !p.secret) assert.ok(env[p.name], `${p.name} in env`);
});

test('shipped job is exactly what pot-image nomad-job writes for the image definition', () => {
  const expected = renderJobFor(definition, { repoUrl: definition.publish.publicUrl ?? EXAMPLE_REPO_URL });
  assert.equal(text, expected, 'regenerate it: pot-image nomad-job --public-url <url> --out image/matrix-synapse.nomad');
});

test('shipped job passes its own check', async () => {
  const root = (await parse('matrix-synapse.nomad', text)) as Obj;
  const result = checkJob(root, { potName: definition.potName, tag: definition.version, repoUrl: definition.publish.publicUrl });
  assert.deepEqual(result.problems, []);
  assert.deepEqual(result.notes, []);
  assert.equal(result.parameters.MYSHAREDSECRET, 'template');
  assert.equal(result.parameters.DOMAIN, 'env');
});

test('the driver option list is nomad-pot-driver 0.10.0\'s schema', () => {
  // driver/driver.go taskConfigSpec; image, pot and tag are the required ones
  assert.deepEqual([...POT_DRIVER_OPTION_NAMES].sort(), ['args', 'attributes', 'command', 'copy', 'extra_hosts', 'image', 'mount', 'mount_read_only', 'network_mode', 'port_map', 'pot', 'tag']);
  assert.deepEqual(POT_DRIVER_OPTIONS.filter((o) => o.required).map((o) => o.name), ['image', 'pot', 'tag']);
});
