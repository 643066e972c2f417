// pot-image nomad-job's renderer: a job for a given repository, tag, release, datacenter and
// parameter file, parsed back with HashiCorp's HCL parser; bad parameter files are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '@cdktf/hcl2json';
import { fixtureProject } from './fixture.js';
import { InputError } from '../../pipeline/errors.js';
import { loadDefinition } from '../../pipeline/definition/load.js';
import { checkJob } from '../../pipeline/nomad/check.js';
import { renderJobFor } from '../../pipeline/nomad/job-file.js';
import { parseParams } from '../../pipeline/nomad/params-file.js';
import { POT_DRIVER_OPTION_NAMES } from '../../pipeline/nomad/driver-options.js';

type Obj = Record<string, any>;
const fx = fixtureProject();

async function taskOf(text: string): Promise<{ job: Obj; task: Obj }> {
  const root = (await parse('job.nomad', text)) as Obj;
  const job = (root.job['matrix-synapse'] as Obj[])[0] as Obj;
  const task = (job.group.matrix[0].task.synapse as Obj[])[0] as Obj;
  return { job, task };
}

const PARAMS = `# my server
DOMAIN=chat.example.net
ALERTEMAIL="ops@example.net"
SSLEMAIL='ops@example.net'
SMTPHOST=mail.example.net
SMTPUSER=matrix
SMTPFROM=matrix@example.net
LDAPSERVER=ldap.example.net
LDAPDOMAIN=example.net
CONTROLUSER=false
`;

test('renders the job for a repository, tag, release, datacenters and parameter file', async () => {
  const definition = loadDefinition(fx.definitionFile, { release: '14.3' }, fx.root);
  const text = renderJobFor(definition, {
    repoUrl: 'https://pots.example.net/matrix/',
    tag: '0.11.1',
    datacenters: ['dc-a', 'dc-b'],
    params: parseParams(PARAMS, 'params.env'),
  });
  const { job, task } = await taskOf(text);
  assert.deepEqual(job.datacenters, ['dc-a', 'dc-b']);
  const config = task.config[0] as Obj;
  assert.equal(config.pot, 'matrix-synapse-nomad-amd64-14_3');
  assert.equal(config.tag, '0.11.1');
  assert.equal(config.image, 'https://pots.example.net/matrix/');
  for (const key of Object.keys(config)) assert.ok(POT_DRIVER_OPTION_NAMES.includes(key));
  assert.equal(config.copy, undefined, 'no key copied in without CONTROLUSER=true');
  const env = task.env[0] as Obj;
  assert.equal(env.DOMAIN, 'chat.example.net');
  assert.equal(env.ALERTEMAIL, 'ops@example.net');
  assert.equal(env.SSLEMAIL, 'ops@example.net');
  // SMTP auth and LDAP in use: their passwords come from the variable, with the shared secret
  const data = String(task.template[0].data);
  for (const s of ['MYSHAREDSECRET', 'SMTPPASS', 'LDAPPASSWORD']) assert.match(data, new RegExp(`^${s}=\\{\\{ \\.${s} \\}\\}$`, 'm'));
  const result = checkJob((await parse('job.nomad', text)) as Obj, { potName: definition.potName, tag: '0.11.1', repoUrl: 'https://pots.example.net/matrix' });
  assert.deepEqual(result.problems, []);
});

test('without SMTP auth or LDAP the template asks only for the shared secret', async () => {
  const text = renderJobFor(fx.definition, { repoUrl: 'file:///srv/pots', params: parseParams('DOMAIN=example.org\nALERTEMAIL=a@example.org\nNOSSL=true\n', 'p') });
  const { task } = await taskOf(text);
  assert.equal(String(task.template[0].data).match(/^[A-Z]+=/gm)?.join(','), 'MYSHAREDSECRET=');
  assert.equal(task.env[0].SSLEMAIL, undefined, 'SSLEMAIL is not required with NOSSL=true');
});

test('--dynamic-ports leaves the host ports to Nomad; check says what that means', async () => {
  const text = renderJobFor(fx.definition, { repoUrl: 'https://pots.example.net/', dynamicPorts: true });
  const root = (await parse('job.nomad', text)) as Obj;
  const network = root.job['matrix-synapse'][0].group.matrix[0].network[0] as Obj;
  assert.deepEqual(network.port, { http: [{}], https: [{}], matrix: [{}] });
  const result = checkJob(root, { potName: fx.definition.potName, tag: fx.definition.version });
  assert.deepEqual(result.problems, []);
  assert.match(result.notes.join('\n'), /ports http, https, matrix have no static host port/);
});

test('--service-provider nomad registers the service with Nomad itself', async () => {
  const { task } = await taskOf(renderJobFor(fx.definition, { repoUrl: 'https://pots.example.net/', serviceProvider: 'nomad' }));
  assert.equal(task.service[0].provider, 'nomad');
  const { task: plain } = await taskOf(renderJobFor(fx.definition, { repoUrl: 'https://pots.example.net/' }));
  assert.equal(plain.service[0].provider, undefined, 'default: Consul, Nomad\'s default, not written');
  assert.throws(() => renderJobFor(fx.definition, { repoUrl: 'https://pots.example.net/', serviceProvider: 'etcd' }), /--service-provider: 'etcd' is not a service provider; use consul or nomad/);
});

test('--plain-env puts the secrets into env {} and drops the template', async () => {
  const text = renderJobFor(fx.definition, {
    repoUrl: 'https://pots.example.net/',
    plainEnv: true,
    params: parseParams('DOMAIN=example.org\nALERTEMAIL=a@example.org\nSSLEMAIL=a@example.org\nMYSHAREDSECRET=s3cret-value-0123456789\n', 'p'),
  });
  const { task } = await taskOf(text);
  assert.equal(task.env[0].MYSHAREDSECRET, 's3cret-value-0123456789');
  assert.equal(task.template, undefined);
  const result = checkJob((await parse('job.nomad', text)) as Obj, { potName: fx.definition.potName, tag: fx.definition.version });
  assert.deepEqual(result.problems, []);
  assert.match(result.notes.join('\n'), /MYSHAREDSECRET is written in the job file in clear/);
});

const refused: Array<[string, string, RegExp, boolean?]> = [
  ['unknown key', 'DOMAN=example.org\n', /params:1: unknown parameter 'DOMAN'/],
  ['not KEY=VALUE', 'DOMAIN example.org\n', /expected KEY=VALUE/],
  ['set twice', 'DOMAIN=a.org\nDOMAIN=b.org\n', /:2: DOMAIN is set twice/],
  ['shell expansion', 'DOMAIN=example.org\nSMTPFROM=$(id)@example.org\n', /:2: SMTPFROM contains whitespace or one of .*; put it in the Nomad Variable nomad\/jobs\/matrix-synapse instead/],
  ['bad boolean', 'NOSSL=maybe\n', /NOSSL is 'maybe'; use true or false/],
  ['bad port', 'SMTPPORT=99999\n', /SMTPPORT is '99999'; use a port number/],
  ['bad email', 'ALERTEMAIL=nobody\n', /ALERTEMAIL is 'nobody'; not an email address/],
  ['domain with a scheme', 'DOMAIN=https://example.org\n', /DOMAIN is 'https:\/\/example\.org'; not a plain domain name/],
  ['IP that is a name', 'IP=jail.example.org\n', /IP is 'jail\.example\.org'; not an IPv4 or IPv6 address/],
  ['short shared secret', 'MYSHAREDSECRET=short\n', /MYSHAREDSECRET is too short \(5 characters\)/],
];
for (const [what, params, re] of refused) {
  test(`parameter file refused: ${what}`, () => {
    assert.throws(() => parseParams(params, 'params'), (e: unknown) => e instanceof InputError && re.test(e.message) && !e.message.includes('\n'));
  });
}

test('a secret value is never echoed in an error', () => {
  assert.throws(() => parseParams('MYSHAREDSECRET=abc$def\n', 'p'), (e: unknown) => e instanceof Error && !e.message.includes('abc') && /p:1: MYSHAREDSECRET contains/.test(e.message));
});

// What nomad-pot-driver's unquoted `sh -c "pot set-env ... -E K=V"` on the host, and the jail's
// sh reading `export "K=V"`, would split or expand: each is refused, naming the parameter only.
for (const ch of [' ', '\t', '$', '`', '\\', '"', "'", ';', '&', '|', '<', '>', '(', ')', '*', '?', '[', ']', '{', '}', '~', '#', '!']) {
  test(`--params refuses ${JSON.stringify(ch)} in a value that goes into env`, () => {
    for (const [name, value] of [['SMTPUSER', `us${ch}er`], ['MYSHAREDSECRET', `0123456789abcdef${ch}xyz`]] as const) {
      assert.throws(() => parseParams(`${name}=${value}\n`, 'p'), (e: unknown) =>
        e instanceof InputError && !e.message.includes('\n') && !e.message.includes(value) &&
        e.message.startsWith(`p:1: ${name} contains whitespace or one of`) &&
        /put it in the Nomad Variable nomad\/jobs\/matrix-synapse instead/.test(e.message) && /\/secrets\/matrix-synapse\.env/.test(e.message));
    }
  });
}

test('--params still takes values the shell leaves alone (%, @, +, =, :, /, non-ASCII)', () => {
  const values = parseParams('SMTPUSER=user+tag@exämple.org\nMYSHAREDSECRET=abc%def=ghi:jkl/mno,pqr.0123\n', 'p');
  assert.equal(values.SMTPUSER, 'user+tag@exämple.org');
  assert.equal(values.MYSHAREDSECRET, 'abc%def=ghi:jkl/mno,pqr.0123');
});

test('cook\'s conditional requirements: mail needs SMTPFROM, LDAP its domain', () => {
  const base = 'DOMAIN=example.org\nALERTEMAIL=a@example.org\nSSLEMAIL=a@example.org\n';
  assert.throws(() => renderJobFor(fx.definition, { repoUrl: 'https://x.example/', params: parseParams(`${base}SMTPHOST=mail.example.org\n`, 'p') }), /required parameter SMTPFROM missing/);
  assert.throws(() => renderJobFor(fx.definition, { repoUrl: 'https://x.example/', params: parseParams(`${base}LDAPSERVER=10.0.0.5\n`, 'p') }), /required parameter LDAPDOMAIN missing/);
});

test('render refuses: secrets in the parameter file, missing required values, no repository', () => {
  const base = 'DOMAIN=example.org\nALERTEMAIL=a@example.org\nSSLEMAIL=a@example.org\n';
  assert.throws(
    () => renderJobFor(fx.definition, { repoUrl: 'https://x.example/', params: parseParams(`${base}MYSHAREDSECRET=topsecret-0123456789\n`, 'p') }),
    (e: unknown) => e instanceof InputError && /MYSHAREDSECRET is a secret and stays out of the job file; .*nomad var put nomad\/jobs\/matrix-synapse MYSHAREDSECRET=\.\.\./.test(e.message) && !e.message.includes('topsecret'),
  );
  assert.throws(() => renderJobFor(fx.definition, { repoUrl: 'https://x.example/', params: parseParams('DOMAIN=example.org\n', 'p') }), /required parameters ALERTEMAIL, SSLEMAIL missing/);
  assert.throws(() => renderJobFor(fx.definition, { repoUrl: 'https://x.example/', plainEnv: true, params: parseParams(base, 'p') }), /required parameter MYSHAREDSECRET missing/);
  assert.throws(
    () => renderJobFor(fx.definition, { repoUrl: 'https://x.example/', plainEnv: true, params: parseParams(`${base}MYSHAREDSECRET=0123456789abcdef\nSMTPHOST=mail.example.org\nSMTPFROM=m@example.org\nSMTPUSER=u\n`, 'p') }),
    /required parameter SMTPPASS missing/,
  );
  const noUrl = { ...fx.definition, publish: {} };
  assert.throws(() => renderJobFor(noUrl, {}), /no repository URL: pass --repo-url URL or set publish\.public_url/);
  assert.throws(() => renderJobFor(fx.definition, { repoUrl: 'pots.example.net' }), /--repo-url: 'pots\.example\.net' is not a URL/);
  assert.throws(() => renderJobFor(fx.definition, { repoUrl: 'https://x.example/', tag: '1.0 beta' }), /--tag: the tag "1\.0 beta" contains white space/);
});

test('the repository URL defaults to publish.public_url of the definition', async () => {
  const fx2 = fixtureProject((y) => y.replace(/^(\s+public_url:).*$/m, '$1 "https://pots.example.com/matrix-synapse-nomad/"'));
  const { task } = await taskOf(renderJobFor(fx2.definition, {}));
  assert.equal(task.config[0].image, 'https://pots.example.com/matrix-synapse-nomad/');
});
