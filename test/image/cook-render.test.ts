// The real cook, run on Linux in a fresh clone of the image built by the
// flavour script (FreeBSD-only tools are stand-ins): what it renders from
// every parameter and combination, value by value.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { cook, jailUnavailable, MINIMAL, SHARED_SECRET, type Rendered } from './jail.js';
import { schemaErrors, schemaMissing } from './schema.js';
import { tempDir } from '../helpers/tmp.js';

const skip = jailUnavailable();
const HOMESERVER = 'usr/local/etc/matrix-synapse/homeserver.yaml';
const COOK_LOG = 'var/log/cook.log';
// Quotes, YAML/shell specials, backslash, spaces, non-ASCII: must arrive verbatim.
const HOSTILE = `q"uo'te #hash: colon |pipe &amp \\back\\\\ %s %(app)s $HOME \`id\` two  spaces ünïcødé 🎉 end`;

function synapseGroupId(r: Rendered): number {
  const line = r.file('etc/group').split('\n').find((l) => l.startsWith('synapse:'));
  assert.ok(line, 'the image has a synapse group');
  return Number(line.split(':')[2]);
}

function assertNoSecrets(r: Rendered, secrets: string[]): void {
  const log = r.exists(COOK_LOG) ? r.file(COOK_LOG) : '';
  for (const secret of secrets) {
    assert.ok(!r.output.includes(secret), `secret leaked on stdout/stderr: ${secret.slice(0, 4)}…`);
    assert.ok(!log.includes(secret), `secret leaked into cook.log: ${secret.slice(0, 4)}…`);
  }
}

function assertSchemaValid(config: Record<string, any>): void {
  if (schemaMissing) return;
  assert.deepEqual(schemaErrors(config), []);
}

describe('cook renders homeserver.yaml', { skip }, () => {
  it('minimal parameters: every value in place, secrets generated, file 0640 root:synapse', async () => {
    const r = await cook(MINIMAL);
    assert.equal(r.code, 0, r.output);
    const hs = r.homeserver();
    assert.equal(hs.server_name, 'example.com');
    assert.equal(hs.public_baseurl, 'https://example.com/');
    assert.equal(hs.pid_file, '/var/run/matrix-synapse/homeserver.pid');
    assert.deepEqual(hs.listeners, [{
      port: 8008, bind_addresses: ['127.0.0.1'], type: 'http', tls: false, x_forwarded: true,
      resources: [{ names: ['client', 'federation'], compress: false }],
    }]);
    assert.deepEqual(hs.database, { name: 'sqlite3', args: { database: '/mnt/synapse/homeserver.db' } });
    assert.equal(hs.media_store_path, '/mnt/synapse/media_store');
    assert.equal(hs.signing_key_path, '/mnt/synapse/keys/signing.key');
    assert.equal(hs.log_config, '/usr/local/etc/matrix-synapse/log.config');
    assert.equal(hs.admin_contact, 'mailto:admin@example.com');
    assert.equal(hs.registration_shared_secret, SHARED_SECRET);
    assert.equal(hs.report_stats, false);
    assert.equal(hs.enable_registration, false);
    assert.equal(hs.max_upload_size, '50M');
    assert.deepEqual(hs.trusted_key_servers, [{ server_name: 'matrix.org' }]);
    for (const key of ['email', 'modules', 'password_providers', 'acme', 'federation_ip_range_blacklist',
      'enable_registration_without_verification', 'registrations_require_3pid', 'tls_certificate_path']) {
      assert.ok(!(key in hs), `${key} must not be set`);
    }
    assert.equal(hs.macaroon_secret_key, r.file('mnt/synapse/secrets/macaroon_secret_key').trim());
    assert.equal(hs.form_secret, r.file('mnt/synapse/secrets/form_secret').trim());
    assert.match(hs.macaroon_secret_key, /^[A-Za-z0-9]{64}$/);
    assert.notEqual(hs.macaroon_secret_key, hs.form_secret);
    assert.match(r.file('mnt/synapse/keys/signing.key'), /^ed25519 a_\w+ \S+\n$/);
    assert.ok(!r.file(HOMESERVER).includes('CHANGEME'), 'the rc script refuses configs containing CHANGEME');
    assert.equal(r.mode(HOMESERVER), 0o640);
    const st = (await import('node:fs')).statSync(join(r.out, HOMESERVER));
    assert.equal(st.uid, 0);
    assert.equal(st.gid, synapseGroupId(r));
    assert.equal(r.mode('mnt/synapse/keys/signing.key'), 0o600);
    assert.equal(r.mode('mnt/synapse/secrets/macaroon_secret_key'), 0o600);
    assert.ok(r.exists('usr/local/etc/pot-is-seasoned'));
    // Synapse's own interpreter, found from the shebang of the package's synctl.
    assert.match(r.stdout, /rendered by \/\S*python3\.\d+\)/);
    assertSchemaValid(hs);
    assertNoSecrets(r, [SHARED_SECRET, hs.macaroon_secret_key, hs.form_secret]);
  });

  it('writes the log config Synapse is pointed at', async () => {
    const r = await cook(MINIMAL);
    const { parse } = await import('yaml');
    const logConfig = parse(r.file('usr/local/etc/matrix-synapse/log.config'));
    assert.equal(logConfig.version, 1);
    assert.equal(logConfig.handlers.file.filename, '/var/log/matrix-synapse/homeserver.log');
    assert.deepEqual(logConfig.root.handlers, ['file']);
  });

  it('registration without mail: enable_registration_without_verification and a loud warning', async () => {
    const r = await cook({ ...MINIMAL, ENABLEREGISTRATION: 'true' });
    assert.equal(r.code, 0, r.output);
    const hs = r.homeserver();
    assert.equal(hs.enable_registration, true);
    assert.equal(hs.enable_registration_without_verification, true);
    assert.ok(!('registrations_require_3pid' in hs));
    assert.match(r.stderr, /WARNING: ENABLEREGISTRATION=true without mail.*ANYONE can register/);
    assertSchemaValid(hs);
  });

  it('registration with mail: a verified email is required; mail settings typed', async () => {
    const r = await cook({
      ...MINIMAL, ENABLEREGISTRATION: 'YES', SMTPHOST: 'mail.example.com', SMTPPORT: '587',
      SMTPUSER: 'mailer', SMTPPASS: 'mail-password', SMTPFROM: 'matrix@example.com',
    });
    assert.equal(r.code, 0, r.output);
    const hs = r.homeserver();
    assert.equal(hs.enable_registration, true);
    assert.deepEqual(hs.registrations_require_3pid, ['email']);
    assert.ok(!('enable_registration_without_verification' in hs));
    assert.deepEqual(hs.email, {
      smtp_host: 'mail.example.com', smtp_port: 587, notif_from: 'matrix@example.com',
      smtp_user: 'mailer', smtp_pass: 'mail-password',
    });
    assert.doesNotMatch(r.stderr, /ANYONE can register/);
    assertSchemaValid(hs);
    assertNoSecrets(r, ['mail-password']);
  });

  it('mail without credentials uses port 25 by default; 465 means implicit TLS', async () => {
    const plain = await cook({ ...MINIMAL, SMTPHOST: '192.0.2.25', SMTPFROM: 'm@example.com' });
    assert.equal(plain.code, 0, plain.output);
    assert.deepEqual(plain.homeserver().email, {
      smtp_host: '192.0.2.25', smtp_port: 25, notif_from: 'm@example.com',
    });
    const smtps = await cook({ ...MINIMAL, SMTPHOST: 'mail.example.com', SMTPPORT: '465', SMTPFROM: 'm@example.com' });
    assert.equal(smtps.homeserver().email.force_tls, true);
    assert.equal(smtps.homeserver().email.smtp_port, 465);
  });

  it('LDAP: module in search mode, dc= from every label of LDAPDOMAIN, StartTLS', async () => {
    const r = await cook({ ...MINIMAL, LDAPSERVER: 'ldap.corp.example.org', LDAPPASSWORD: 'ldap-secret', LDAPDOMAIN: 'corp.example.org' });
    assert.equal(r.code, 0, r.output);
    const hs = r.homeserver();
    assert.deepEqual(hs.modules, [{
      module: 'matrix_synapse_nomad_ldap.BoundedLdapAuthProviderModule',
      config: {
        enabled: true, mode: 'search', uri: 'ldap://ldap.corp.example.org:389', start_tls: true,
        base: 'ou=People,dc=corp,dc=example,dc=org', bind_dn: 'cn=Manager,dc=corp,dc=example,dc=org',
        bind_password: 'ldap-secret', filter: '(objectClass=posixAccount)',
        attributes: { uid: 'uid', mail: 'mail', name: 'cn' },
      },
    }]);
    assert.ok(!('password_providers' in hs));
    assertSchemaValid(hs);
    assertNoSecrets(r, ['ldap-secret']);
  });

  it('hostile values arrive verbatim (secrets, user, addresses), newlines included where allowed', async () => {
    const secret = `${HOSTILE}\nsecond line`;
    const r = await cook({
      ...MINIMAL, MYSHAREDSECRET: secret, ALERTEMAIL: "o'brien+x&y#z|w%v$u{}@example.com",
      SMTPHOST: 'mail.example.com', SMTPUSER: HOSTILE, SMTPPASS: secret, SMTPFROM: 'no%reply@example.com',
      LDAPSERVER: '10.0.0.5', LDAPPASSWORD: secret, LDAPDOMAIN: 'example.com',
    });
    assert.equal(r.code, 0, r.output);
    const hs = r.homeserver();
    assert.equal(hs.registration_shared_secret, secret);
    assert.equal(hs.email.smtp_user, HOSTILE);
    assert.equal(hs.email.smtp_pass, secret);
    assert.equal(hs.modules[0].config.bind_password, secret);
    assert.equal(hs.admin_contact, "mailto:o'brien+x&y#z|w%v$u{}@example.com");
    // Synapse expands %(app)s in notif_from, so a literal % is doubled…
    assert.equal(hs.email.notif_from, 'no%%reply@example.com');
    // …and comes out as given after Synapse's own formatting.
    assert.equal(hs.email.notif_from.replace(/%%/g, '%'), 'no%reply@example.com');
    // Non-ASCII is written as itself, not escaped.
    assert.ok(r.file(HOMESERVER).includes('ünïcødé 🎉'));
    assertSchemaValid(hs);
    assertNoSecrets(r, [HOSTILE, 'second line']);
  });

  it('values YAML cannot hold raw (DEL, C1 controls) are escaped and still round-trip', async () => {
    const odd = 'ctl\u007f\u0085\u2028\ttab-0123456789';
    const r = await cook({ ...MINIMAL, MYSHAREDSECRET: odd });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.homeserver().registration_shared_secret, odd);
  });

  it('flags win over the environment', async () => {
    const r = await cook({ ...MINIMAL, DOMAIN: 'env.example.com', ENABLEREGISTRATION: 'false' },
      { flags: ['-d', 'flag.example.com', '-e', 'true', '-s', 'flag-secret-0123456789', '-h', 'smtp.example.com', '-p', '2525', '-f', 'f@example.com'] });
    assert.equal(r.code, 0, r.output);
    const hs = r.homeserver();
    assert.equal(hs.server_name, 'flag.example.com');
    assert.equal(hs.enable_registration, true);
    assert.equal(hs.registration_shared_secret, 'flag-secret-0123456789');
    assert.equal(hs.email.smtp_port, 2525);
    assertNoSecrets(r, ['flag-secret-0123456789']);
  });

  it('every flag of the README maps to its variable', async () => {
    const key = join(tempDir(), 'key.pub');
    writeFileSync(key, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFlagFlag test@example\n');
    const r = await cook({}, {
      authKey: key,
      flags: ['-i', '10.1.2.3', '-d', 'example.org', '-a', 'a@example.org', '-e', 'no', '-s', SHARED_SECRET,
        '-h', 'mx.example.org', '-p', '26', '-u', 'u', '-c', 'p', '-f', 'f@example.org',
        '-l', 'ldap.example.org', '-b', 'lp', '-t', 'example.org', '-n', 'false', '-x', 'true', '-y', 'acme@example.org'],
    });
    assert.equal(r.code, 0, r.output);
    const hs = r.homeserver();
    assert.equal(hs.server_name, 'example.org');
    assert.equal(hs.admin_contact, 'mailto:a@example.org');
    assert.equal(hs.email.smtp_host, 'mx.example.org');
    assert.equal(hs.email.smtp_port, 26);
    assert.equal(hs.email.smtp_user, 'u');
    assert.equal(hs.email.smtp_pass, 'p');
    assert.equal(hs.email.notif_from, 'f@example.org');
    assert.equal(hs.modules[0].config.uri, 'ldap://ldap.example.org:389');
    assert.equal(hs.modules[0].config.bind_password, 'lp');
    assert.equal(r.file('usr/local/etc/matrix-synapse-nomad/tls-params'), 'example.org\nacme@example.org\n');
    assert.ok(r.file('etc/passwd').includes('\ncontrol:'));
    assert.match(r.stdout, /jail address 10\.1\.2\.3/);
  });

  it('booleans accept true/false/yes/no/1/0 in any case', async () => {
    for (const [value, expected] of [['TRUE', true], ['Yes', true], ['1', true], ['False', false], ['NO', false], ['0', false]] as const) {
      const r = await cook({ ...MINIMAL, ENABLEREGISTRATION: value });
      assert.equal(r.code, 0, `${value}: ${r.output}`);
      assert.equal(r.homeserver().enable_registration, expected, value);
    }
  });

  it('started the way pot does under Nomad: /tmp/tinirc exports the env, then execs cook', async () => {
    const seed = tempDir();
    mkdirSync(join(seed, 'tmp'));
    writeFileSync(join(seed, 'tmp', 'tinirc'),
      'export "DOMAIN=tinirc.example.com"\nexport "ALERTEMAIL=a@example.com"\n' +
      'export "MYSHAREDSECRET=single\'quote #hash | pipe & amp ünï"\nexport "NOSSL=true"\n' +
      'exec /usr/local/bin/cook -r\n');
    const r = await cook({}, { seeds: [seed], command: ['sh', '/tmp/tinirc'] });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.homeserver().server_name, 'tinirc.example.com');
    assert.equal(r.homeserver().registration_shared_secret, "single'quote #hash | pipe & amp ünï");
  });

  it('outside Nomad, reads /tmp/environment.sh (pot\'s export lines)', async () => {
    const seed = tempDir();
    mkdirSync(join(seed, 'tmp'));
    writeFileSync(join(seed, 'tmp', 'environment.sh'),
      'export "DOMAIN=envfile.example.com"\nexport "ALERTEMAIL=a@example.com"\n' +
      `export "MYSHAREDSECRET=${SHARED_SECRET}"\nexport "NOSSL=yes"\n`);
    const r = await cook({}, { seeds: [seed] });
    assert.equal(r.code, 0, r.output);
    assert.equal(r.homeserver().server_name, 'envfile.example.com');
  });
});

describe('cook refuses bad parameters', { skip }, () => {
  it('lists every problem at once, exits 2, renders and starts nothing', async () => {
    const r = await cook({
      IP: '300.1.1.1', DOMAIN: 'https://example.com/path', ALERTEMAIL: 'not-an-email',
      MYSHAREDSECRET: 'shortsecret', ENABLEREGISTRATION: 'maybe', SMTPHOST: 'mail.example.com',
      SMTPPORT: '99999', SMTPUSER: 'someone', LDAPSERVER: 'ldap.example.com', NOSSL: 'false',
      CONTROLUSER: 'on',
    }, { renderOnly: false });
    assert.equal(r.code, 2);
    for (const expected of [
      /IP \(-i\): '300\.1\.1\.1' is not an IPv4 or IPv6 address/,
      /DOMAIN \(-d\): 'https:\/\/example\.com\/path' is not a plain host name/,
      /ALERTEMAIL \(-a\): 'not-an-email' does not look like an email address/,
      /MYSHAREDSECRET \(-s\) is too short \(11 characters\); use at least 16/,
      /ENABLEREGISTRATION \(-e\): 'maybe' is not a boolean/,
      /CONTROLUSER \(-x\): 'on' is not a boolean/,
      /SMTPPORT \(-p\): '99999' is not a port number/,
      /SMTPFROM \(-f\) is required when SMTPHOST is set/,
      /SMTPUSER \(-u\) is set without SMTPPASS \(-c\)/,
      /LDAPPASSWORD \(-b\) is required when LDAPSERVER is set/,
      /LDAPDOMAIN \(-t\) is required when LDAPSERVER is set/,
      /SSLEMAIL \(-y\) is required unless NOSSL=true/,
    ]) assert.match(r.stderr, expected);
    assert.match(r.stderr, /cannot start: 12 problem\(s\)/);
    assert.match(r.stderr, /nothing was started/);
    assert.ok(!r.exists(HOMESERVER));
    assert.ok(!r.exists('usr/local/etc/pot-is-seasoned'));
    assert.ok(!r.exists('mnt/synapse'), 'no secrets generated');
    assert.deepEqual(r.standIns().filter((l) => /^(service|sysrc|pw|acme\.sh|generate_signing_key)/.test(l)), []);
    assertNoSecrets(r, ['shortsecret']);
  });

  it('required parameters missing', async () => {
    const r = await cook({});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /DOMAIN \(-d\) is required/);
    assert.match(r.stderr, /ALERTEMAIL \(-a\) is required/);
    assert.match(r.stderr, /MYSHAREDSECRET \(-s\) is required/);
    assert.match(r.stderr, /SSLEMAIL \(-y\) is required unless NOSSL=true/);
  });

  it('half-given mail, LDAP and control-user settings', async () => {
    const r = await cook({
      ...MINIMAL, SMTPPASS: 'x', SMTPFROM: 'f@example.com', LDAPPASSWORD: 'y', LDAPDOMAIN: 'example.com', CONTROLUSER: 'yes',
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /SMTPPASS \(-c\) is set but SMTPHOST \(-h\) is not/);
    assert.match(r.stderr, /SMTPFROM \(-f\) is set but SMTPHOST \(-h\) is not/);
    assert.match(r.stderr, /LDAPPASSWORD \(-b\) is set but LDAPSERVER \(-l\) is not/);
    assert.match(r.stderr, /LDAPDOMAIN \(-t\) is set but LDAPSERVER \(-l\) is not/);
    assert.match(r.stderr, /CONTROLUSER=true needs the control user's public key in \/root\/importauthkey/);
  });

  it('bad host names, ports and emails', async () => {
    for (const [env, expected] of [
      [{ DOMAIN: 'example.com:8448' }, /DOMAIN \(-d\): 'example\.com:8448' is not a plain host name/],
      [{ DOMAIN: 'exa mple.com' }, /is not a plain host name/],
      [{ DOMAIN: 'example.com\nevil' }, /is not a plain host name/],
      [{ SMTPHOST: 'mail.example.com', SMTPFROM: 'f@example.com', SMTPPORT: 'smtp' }, /SMTPPORT \(-p\): 'smtp' is not a port number/],
      [{ SMTPHOST: 'mail.example.com', SMTPFROM: 'f@example.com', SMTPPORT: '0' }, /SMTPPORT \(-p\): '0' is not a port number/],
      [{ SMTPHOST: 'mail.example.com', SMTPFROM: 'Name <f@example.com>' }, /SMTPFROM \(-f\): .* does not look like an email address/],
      [{ LDAPSERVER: 'ldap://ldap.example.com', LDAPPASSWORD: 'x', LDAPDOMAIN: 'example.com' }, /LDAPSERVER \(-l\): 'ldap:\/\/ldap\.example\.com' is not a host name/],
      [{ LDAPSERVER: 'ldap.example.com', LDAPPASSWORD: 'x', LDAPDOMAIN: 'dc=example,dc=com' }, /LDAPDOMAIN \(-t\): 'dc=example,dc=com' is not a domain name/],
      [{ NOSSL: 'false', SSLEMAIL: 'ssl-at-example.com' }, /SSLEMAIL \(-y\): 'ssl-at-example\.com' does not look like an email address/],
    ] as const) {
      const r = await cook({ ...MINIMAL, ...env });
      assert.equal(r.code, 2, JSON.stringify(env));
      assert.match(r.stderr, expected);
    }
  });

  it('the CHANGEME placeholder (which the rc script refuses) is named', async () => {
    const r = await cook({ ...MINIMAL, MYSHAREDSECRET: 'CHANGEME-CHANGEME-CHANGEME' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /MYSHAREDSECRET \(-s\) still contains the placeholder CHANGEME/);
    assertNoSecrets(r, ['CHANGEME-CHANGEME-CHANGEME']);
  });

  it('unknown flags and flags without value', async () => {
    const r = await cook(MINIMAL, { flags: ['-q', '-d'] });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown flag -q/);
    assert.match(r.stderr, /flag -d needs a value/);
  });

  it('read-only persistent storage is a clear error', async () => {
    const mnt = tempDir();
    const r = await cook(MINIMAL, { mnt, mntReadOnly: true });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /persistent storage \/mnt is not writable/);
  });
});

describe('persistent storage across allocations', { skip }, () => {
  it('a second allocation on the same /mnt keeps the signing key and secrets', async () => {
    const mnt = tempDir();
    const first = await cook(MINIMAL, { mnt });
    assert.equal(first.code, 0, first.output);
    const key = readFileSync(join(mnt, 'synapse/keys/signing.key'), 'utf8');
    const hs1 = first.homeserver();
    const second = await cook({ ...MINIMAL, ENABLEREGISTRATION: 'true' }, { mnt });
    assert.equal(second.code, 0, second.output);
    const hs2 = second.homeserver();
    assert.equal(readFileSync(join(mnt, 'synapse/keys/signing.key'), 'utf8'), key);
    assert.equal(hs2.macaroon_secret_key, hs1.macaroon_secret_key);
    assert.equal(hs2.form_secret, hs1.form_secret);
    assert.equal(hs2.enable_registration, true, 'configuration is rendered anew from the parameters');
    assert.match(second.stdout, /reusing the server's signing key/);
    assert.ok(!second.standIns().some((l) => l.startsWith('generate_signing_key')));
  });

  it('refuses a different DOMAIN on data that belongs to another server name', async () => {
    const mnt = tempDir();
    assert.equal((await cook(MINIMAL, { mnt })).code, 0);
    const r = await cook({ ...MINIMAL, DOMAIN: 'other.example.com' }, { mnt });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /data in \/mnt belongs to 'example\.com'; a Matrix server name cannot change/);
  });

  it('a restart of the same clone keeps the rendered configuration', async () => {
    const mnt = tempDir();
    const first = await cook(MINIMAL, { mnt });
    const again = await cook({ ...MINIMAL, ENABLEREGISTRATION: 'true' }, { mnt, seeds: [first.out] });
    assert.equal(again.code, 0, again.output);
    assert.match(again.stdout, /restart of an already configured clone/);
    assert.equal(again.homeserver().enable_registration, false, 'not rendered again');
  });
});

describe('TLS and control user rendering', { skip }, () => {
  it('NOSSL: plain HTTP site, no ACME, no renewal job', async () => {
    const r = await cook(MINIMAL);
    assert.match(r.file('usr/local/etc/nginx/matrix-site.conf'), /^# mode: nossl/);
    assert.ok(!(r.exists('etc/crontab') && r.file('etc/crontab').includes('tls-renew')));
    assert.ok(!r.standIns().some((l) => l.startsWith('acme.sh')));
  });

  it('TLS without a certificate yet: bootstrap site, renewal job scheduled', async () => {
    const r = await cook({ ...MINIMAL, NOSSL: 'false', SSLEMAIL: 'ssl@example.com' });
    assert.equal(r.code, 0, r.output);
    assert.match(r.file('usr/local/etc/nginx/matrix-site.conf'), /^# mode: bootstrap/);
    assert.match(r.file('etc/crontab'), /\troot\t\/usr\/local\/libexec\/matrix-synapse-nomad\/tls-renew /);
    assert.equal(r.mode('usr/local/etc/matrix-synapse-nomad/tls-params'), 0o600);
  });

  it('TLS with a valid certificate on /mnt: reused, HTTPS site rendered', async () => {
    const mnt = tempDir();
    const certs = join(mnt, 'certs', 'example.com');
    mkdirSync(certs, { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=example.com',
      '-keyout', join(certs, 'privkey.pem'), '-out', join(certs, 'fullchain.pem')], { stdio: 'ignore' });
    const r = await cook({ ...MINIMAL, NOSSL: 'no', SSLEMAIL: 'ssl@example.com' }, { mnt });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /reusing the certificate for example\.com/);
    const site = r.file('usr/local/etc/nginx/matrix-site.conf');
    assert.match(site, /^# mode: tls/);
    assert.match(site, /ssl_certificate \/mnt\/certs\/example\.com\/fullchain\.pem;/);
  });

  it('CONTROLUSER: key-only SSH user with home on /mnt and StrictModes-safe permissions', async () => {
    const key = join(tempDir(), 'id.pub');
    writeFileSync(key, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIControlControl ops@example\n');
    chmodSync(key, 0o644);
    const r = await cook({ ...MINIMAL, CONTROLUSER: 'true' }, { authKey: key });
    assert.equal(r.code, 0, r.output);
    const passwd = r.file('etc/passwd').split('\n').find((l) => l.startsWith('control:'));
    assert.equal(passwd, 'control:x:1001:1001:SSH control user:/mnt/control:/bin/sh');
    assert.equal(r.file('mnt/control/.ssh/authorized_keys'), readFileSync(key, 'utf8'));
    assert.equal(r.mode('mnt/control'), 0o755);
    assert.equal(r.mode('mnt/control/.ssh'), 0o700);
    assert.equal(r.mode('mnt/control/.ssh/authorized_keys'), 0o600);
    const st = (await import('node:fs')).statSync(join(r.out, 'mnt/control/.ssh/authorized_keys'));
    assert.equal(st.uid, 1001);
    const sshd = r.file('etc/ssh/sshd_config');
    for (const line of ['PermitRootLogin no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'AuthenticationMethods publickey', 'StrictModes yes', 'AllowUsers control']) {
      assert.ok(sshd.split('\n').includes(line), line);
    }
    assert.ok(!/StrictModes no/.test(sshd));
    assert.match(r.file('etc/rc.conf'), /^sshd_enable="YES"$/m);
    assert.ok(r.standIns().includes('pw useradd -n control -u 1001 -c SSH control user -d /mnt/control -s /bin/sh -h -'));
  });
});
