// cook's parameter file (/secrets/matrix-synapse.env, which the Nomad job's template renders):
// values taken literally whatever their characters, precedence flags > file > environment,
// bad lines reported with the other problems, values never logged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cook, jailUnavailable, MINIMAL, type Rendered } from './jail.js';
import { tempDir } from '../helpers/tmp.js';

const skip = jailUnavailable();
const HOMESERVER = 'usr/local/etc/matrix-synapse/homeserver.yaml';
const COOK_LOG = 'var/log/cook.log';
// Everything pot's set-env would split or expand, with leading and trailing spaces kept.
const HOSTILE = ` q"uo'te $HOME \`id\` \\back\\\\ two  spaces ;semi |pipe &amp #hash %s %(app)s ünïcødé 🎉 $(reboot) * ? [x] {y} ~ ! <a> end `;
const HOSTILE_PASS = `p;a|s&s#w%o"r'd$\`\\ ${'\u00e9'}`;

/** A tree with FILE (e.g. secrets/matrix-synapse.env) holding TEXT, laid over the image. */
function seedFile(path: string, text: string): string {
  const seed = tempDir();
  mkdirSync(join(seed, path, '..'), { recursive: true });
  writeFileSync(join(seed, path), text, { mode: 0o600 });
  return seed;
}

function assertNotLogged(r: Rendered, values: string[]): void {
  const log = r.exists(COOK_LOG) ? r.file(COOK_LOG) : '';
  for (const value of values) {
    assert.ok(!r.output.includes(value.trim()), `value leaked on stdout/stderr: ${value.slice(0, 4)}…`);
    assert.ok(!log.includes(value.trim()), `value leaked into cook.log: ${value.slice(0, 4)}…`);
  }
}

describe('cook reads /secrets/matrix-synapse.env', { skip }, () => {
  it('hostile secrets arrive verbatim in homeserver.yaml and are never logged', async () => {
    const file = [
      '# rendered by the Nomad job template',
      '',
      `MYSHAREDSECRET=${HOSTILE}`,
      'SMTPHOST=mail.example.com',
      'SMTPFROM=matrix@example.com',
      'SMTPUSER=matrix',
      `SMTPPASS=${HOSTILE_PASS}`,
      'LDAPSERVER=10.0.0.5',
      'LDAPDOMAIN=example.com',
      `LDAPPASSWORD=${HOSTILE_PASS}x\r`, // a CRLF line: the CR is not part of the value
      '   ',
    ].join('\n');
    const { MYSHAREDSECRET: _unused, ...plain } = MINIMAL;
    const r = await cook(plain, { seeds: [seedFile('secrets/matrix-synapse.env', file)] });
    assert.equal(r.code, 0, r.output);
    const hs = r.homeserver();
    assert.equal(hs.registration_shared_secret, HOSTILE);
    assert.equal(hs.email.smtp_pass, HOSTILE_PASS);
    assert.equal(hs.modules[0].config.bind_password, `${HOSTILE_PASS}x`);
    assert.ok(r.file(HOMESERVER).includes('ünïcødé 🎉'));
    assert.match(r.stdout, /read parameters from \/secrets\/matrix-synapse\.env: MYSHAREDSECRET SMTPHOST SMTPFROM SMTPUSER SMTPPASS LDAPSERVER LDAPDOMAIN LDAPPASSWORD/);
    assert.match(r.stdout, /MYSHAREDSECRET from the parameter file/);
    assert.match(r.stdout, /SMTPPASS from the parameter file/);
    assert.match(r.file(COOK_LOG), /LDAPPASSWORD from the parameter file/);
    assertNotLogged(r, [HOSTILE, HOSTILE_PASS, 'ünïcødé']);
  });

  it('the file wins over the environment, flags win over the file', async () => {
    const file = 'DOMAIN=file.example.com\nMYSHAREDSECRET=file-secret-0123456789\nSMTPHOST=mail.example.com\n' +
      'SMTPFROM=f@example.com\nSMTPUSER=u\nSMTPPASS=file-pass-0123\nENABLEREGISTRATION=\n';
    const r = await cook(
      { ...MINIMAL, DOMAIN: 'env.example.com', MYSHAREDSECRET: 'env-secret-mangled-by-set-env', ENABLEREGISTRATION: 'true' },
      { seeds: [seedFile('secrets/matrix-synapse.env', file)], flags: ['-c', 'flag-pass-0123'] },
    );
    assert.equal(r.code, 0, r.output);
    const hs = r.homeserver();
    assert.equal(hs.server_name, 'file.example.com');
    assert.equal(hs.registration_shared_secret, 'file-secret-0123456789');
    assert.equal(hs.email.smtp_pass, 'flag-pass-0123');
    // An empty value in the file counts as not given: the environment's value stays.
    assert.equal(hs.enable_registration, true);
    assert.match(r.stdout, /MYSHAREDSECRET from the parameter file/);
    assert.match(r.stdout, /SMTPPASS from the flag/);
    assertNotLogged(r, ['file-secret-0123456789', 'flag-pass-0123', 'env-secret-mangled', 'file-pass-0123']);

    const flagged = await cook({ ...MINIMAL },
      { seeds: [seedFile('secrets/matrix-synapse.env', file)], flags: ['-d', 'flag.example.com', '-s', 'flag-secret-0123456789'] });
    assert.equal(flagged.code, 0, flagged.output);
    assert.equal(flagged.homeserver().server_name, 'flag.example.com');
    assert.equal(flagged.homeserver().registration_shared_secret, 'flag-secret-0123456789');
    assert.match(flagged.stdout, /MYSHAREDSECRET from the flag/);
  });

  it('without the file the environment is used, and says so', async () => {
    const r = await cook(MINIMAL);
    assert.equal(r.code, 0, r.output);
    assert.doesNotMatch(r.output, /read parameters from \/secrets/);
    assert.match(r.stdout, /MYSHAREDSECRET from the environment/);
  });

  it('COOK_PARAMS_FILE points cook at another file', async () => {
    const seed = seedFile('tmp/preview.env', `DOMAIN=preview.example.com\nALERTEMAIL=a@example.com\nMYSHAREDSECRET=${HOSTILE}\nNOSSL=true\n`);
    const r = await cook({ COOK_PARAMS_FILE: '/tmp/preview.env' }, { seeds: [seed] });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.homeserver().server_name, 'preview.example.com');
    assert.equal(r.homeserver().registration_shared_secret, HOSTILE);
    assert.match(r.stdout, /read parameters from \/tmp\/preview\.env/);
  });

  it('unknown keys, malformed and repeated lines are problems like the others; nothing starts', async () => {
    const file = [
      'MYSHAREDSECRET=a-good-secret-0123456789',
      'MYSHAREDSECRT=typo-secret-value-0123',
      'this line is secret-ish text without equals',
      'export DOMAIN=example.org',
      'LDAPPASSWORD =spaced-secret-value',
      'MYSHAREDSECRET=second-secret-value-0123',
    ].join('\n');
    const { MYSHAREDSECRET: _unused, ...plain } = MINIMAL;
    const r = await cook({ ...plain, ALERTEMAIL: 'not-an-email' },
      { seeds: [seedFile('secrets/matrix-synapse.env', file)], renderOnly: false });
    assert.equal(r.code, 2);
    for (const expected of [
      /\/secrets\/matrix-synapse\.env line 2: unknown parameter MYSHAREDSECRT; the image takes IP DOMAIN/,
      /\/secrets\/matrix-synapse\.env line 3: expected KEY=VALUE/,
      /\/secrets\/matrix-synapse\.env line 4: expected KEY=VALUE/,
      /\/secrets\/matrix-synapse\.env line 5: expected KEY=VALUE/,
      /\/secrets\/matrix-synapse\.env line 6: MYSHAREDSECRET is given twice; keep one line/,
      /ALERTEMAIL \(-a\): 'not-an-email' does not look like an email address/,
    ]) assert.match(r.stderr, expected);
    assert.match(r.stderr, /cannot start: 6 problem\(s\)/);
    assert.match(r.stderr, /nothing was started/);
    assert.ok(!r.exists(HOMESERVER));
    assert.ok(!r.exists('mnt/synapse'), 'no secrets generated');
    assert.deepEqual(r.standIns().filter((l) => /^(service|sysrc|pw|acme\.sh|generate_signing_key)/.test(l)), []);
    assertNotLogged(r, ['a-good-secret-0123456789', 'typo-secret-value', 'secret-ish', 'spaced-secret-value', 'second-secret-value']);
  });

  it('a key the Nomad Variable lacks (the template prints <no value>) is named', async () => {
    const { MYSHAREDSECRET: _unused, ...plain } = MINIMAL;
    const r = await cook(plain, { seeds: [seedFile('secrets/matrix-synapse.env', 'MYSHAREDSECRET=<no value>\n')] });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /line 1: MYSHAREDSECRET is missing from the Nomad Variable \(the job's template wrote <no value>\); add it with nomad var put/);
    assert.match(r.stderr, /cannot start: 2 problem\(s\)/); // and MYSHAREDSECRET is required
  });

  it('a parameter file that is not a readable file is a problem', async () => {
    const seed = tempDir();
    mkdirSync(join(seed, 'secrets', 'matrix-synapse.env'), { recursive: true });
    const r = await cook(MINIMAL, { seeds: [seed] });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /parameter file \/secrets\/matrix-synapse\.env is not a readable file/);
  });
});
