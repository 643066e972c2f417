// The rendered LDAP settings, used by ldapsearch against a real slapd
// (Debian's), find the test user by uid over StartTLS, as the Synapse
// module does in search mode: bind as cn=Manager, search, then bind as the user.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { cook, jailUnavailable, MINIMAL } from './jail.js';

const run = promisify(execFile);
const SLAPD = '/usr/sbin/slapd';
const skip = jailUnavailable() ?? (existsSync(SLAPD) && existsSync('/usr/bin/ldapsearch') ? undefined : 'slapd/ldap-utils not installed');

const DOMAIN = 'corp.example.org';
const SUFFIX = 'dc=corp,dc=example,dc=org';
const PASSWORD = 'Manager:p@ss#word|&%$x';

function slapdConfig(dir: string): string {
  return [
    ...['core', 'cosine', 'nis', 'inetorgperson'].map((s) => `include /etc/ldap/schema/${s}.schema`),
    `pidfile ${dir}/slapd.pid`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `TLSCertificateFile ${dir}/server.crt`,
    `TLSCertificateKeyFile ${dir}/server.key`,
    'database mdb',
    `suffix "${SUFFIX}"`,
    `rootdn "cn=Manager,${SUFFIX}"`,
    `rootpw "${PASSWORD}"`,
    `directory ${dir}/db`,
    '',
  ].join('\n');
}

const ENTRIES = `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
o: Corp
dc: corp

dn: ou=People,${SUFFIX}
objectClass: organizationalUnit
ou: People

dn: uid=alice,ou=People,${SUFFIX}
objectClass: inetOrgPerson
objectClass: posixAccount
uid: alice
cn: Alice Liddell
sn: Liddell
mail: alice@corp.example.org
uidNumber: 2001
gidNumber: 2001
homeDirectory: /home/alice
userPassword: alice-password
`;

describe('LDAP settings against a real slapd', { skip }, () => {
  let slapd: ChildProcess | undefined;
  let port = 0;
  // Made here, not in before(): tempDir's clean-up then runs after the whole suite.
  const dir = skip ? '' : tempDir('slapd-');

  before(async () => {
    mkdirSync(join(dir, 'db'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.crt')], { stdio: 'ignore' });
    writeFileSync(join(dir, 'slapd.conf'), slapdConfig(dir));
    writeFileSync(join(dir, 'entries.ldif'), ENTRIES);
    execFileSync('/usr/sbin/slapadd', ['-f', join(dir, 'slapd.conf'), '-l', join(dir, 'entries.ldif')], { stdio: 'pipe' });
    port = await freePort();
    slapd = spawn(SLAPD, ['-f', join(dir, 'slapd.conf'), '-h', `ldap://127.0.0.1:${port}/`, '-d', '256'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let log = '';
      slapd!.stderr!.on('data', (d: Buffer) => { log += d; if (log.includes('slapd starting')) resolve(); });
      slapd!.once('exit', (code) => reject(new Error(`slapd exited ${code}: ${log}`)));
    });
  });

  after(() => { slapd?.kill('SIGTERM'); });

  it('search mode with the rendered base, bind_dn, filter and attributes finds the user; the user can bind', async () => {
    const r = await cook({ ...MINIMAL, LDAPSERVER: '127.0.0.1', LDAPPASSWORD: PASSWORD, LDAPDOMAIN: DOMAIN });
    assert.equal(r.code, 0, r.output);
    const ldap = r.homeserver().modules[0].config;
    assert.equal(ldap.uri, 'ldap://127.0.0.1:389');
    assert.equal(ldap.start_tls, true);
    // Only the port differs in the test: slapd listens on a free port, not 389.
    const uri = ldap.uri.replace(/:389$/, `:${port}`);
    const env = { ...process.env, LDAPTLS_CACERT: join(dir, 'server.crt'), LDAPTLS_REQCERT: 'demand' };
    const tls = ldap.start_tls ? ['-ZZ'] : [];
    const filter = `(&${ldap.filter}(${ldap.attributes.uid}=alice))`;
    const search = await run('ldapsearch', ['-x', ...tls, '-LLL', '-H', uri, '-D', ldap.bind_dn, '-w', ldap.bind_password,
      '-b', ldap.base, filter, ldap.attributes.uid, ldap.attributes.mail, ldap.attributes.name], { env });
    assert.match(search.stdout, /^dn: uid=alice,ou=People,dc=corp,dc=example,dc=org$/m);
    assert.match(search.stdout, /^mail: alice@corp\.example\.org$/m);
    assert.match(search.stdout, /^cn: Alice Liddell$/m);
    const whoami = await run('ldapwhoami', ['-x', ...tls, '-H', uri, '-D', `uid=alice,${ldap.base}`, '-w', 'alice-password'], { env });
    assert.match(whoami.stdout, /uid=alice,ou=People,dc=corp,dc=example,dc=org/);
  });

  it('a wrong Manager password is refused (the check is real)', async () => {
    const env = { ...process.env, LDAPTLS_CACERT: join(dir, 'server.crt') };
    await assert.rejects(run('ldapsearch', ['-x', '-ZZ', '-H', `ldap://127.0.0.1:${port}`, '-D', `cn=Manager,${SUFFIX}`,
      '-w', 'wrong', '-b', `ou=People,${SUFFIX}`, '(uid=alice)'], { env }), /Invalid credentials|exit code 49|code 49/);
  });
});
