// Real Synapse behind the rendered nginx, one boot per representative set of
// parameters. Needs TEST_SYNAPSE_COMMAND (docs/image.md, "Tests"); without it
// every check here skips with one line naming what was not proven. Synapse
// gets the rendered homeserver.yaml at its jail path, unchanged; everything is
// asked through nginx from inside the jail, the first admin is created as
// image/README.md tells operators.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCa, trustAndHostsSeed, type TestCa } from '../helpers/ca.js';
import { smtpSeed, smtpServerCommand } from '../helpers/smtp/seed.js';
import { notProven, request, startLive, SYNAPSE_COMMAND, waitHealthy, type LiveJail } from '../helpers/synapse.js';
import { tempDir } from '../helpers/tmp.js';
import { jailUnavailable, MINIMAL } from './jail.js';
import { login, registerUser } from './synapse-client.js';

const skip = jailUnavailable() ?? notProven('real Synapse boots with each rendered configuration behind the rendered nginx');
const ADMIN_PASSWORD = 'admin-password-1';
const SMTP_USER = 'matrix@example.com';
const SMTP_PASS = 'smtp "secret" $x|&';

interface Served { jail: LiveJail; base: string; curl: string[] }

function freshMnt(): string {
  const mnt = tempDir('synapse-mnt-');
  chmodSync(mnt, 0o755); // as `zfs create` leaves a dataset's mount point
  return mnt;
}

function testSeed(ca: TestCa, extra: Record<string, string> = {}): string {
  return trustAndHostsSeed(tempDir('synapse-seed-'), ca.rootPem, { 'example.com': '127.0.0.1', 'smtp.test': '127.0.0.1', 'ldap.test': '127.0.0.1', ...extra });
}

/** What every configuration must give: health, versions, delegation, no admin API outside, a first admin who logs in, a clean log. */
async function checkServed({ jail, base, curl }: Served): Promise<void> {
  await waitHealthy(jail);
  const health = await request(jail, `${base}/health`, { curl });
  assert.equal(health.body, 'OK');
  const versions = await request(jail, `${base}/_matrix/client/versions`, { curl });
  assert.equal(versions.status, 200);
  assert.ok(versions.json().versions.includes('v1.1'), versions.body);
  assert.equal(versions.json().stand_in, undefined, 'a real Synapse answered');
  const server = await request(jail, `${base}/.well-known/matrix/server`, { curl });
  assert.deepEqual(server.json(), { 'm.server': 'example.com:443' });
  const client = await request(jail, `${base}/.well-known/matrix/client`, { curl });
  assert.deepEqual(client.json(), { 'm.homeserver': { base_url: 'https://example.com' } });
  assert.match(client.headers, /^access-control-allow-origin: \*/im);
  const admin = await request(jail, `${base}/_synapse/admin/v1/server_version`, { curl });
  assert.equal(admin.status, 404, 'the admin API is not served through nginx');
  const inside = await request(jail, 'http://127.0.0.1:8008/_synapse/admin/v1/server_version');
  assert.equal(inside.status, 200, 'while Synapse itself has it (so the 404 is nginx\'s)');
  await registerUser(jail, 'admin', ADMIN_PASSWORD, true);
  const me = await login(jail, base, 'admin', ADMIN_PASSWORD, curl);
  assert.equal(me.userId, '@admin:example.com');
  const whoami = await me.get('/_matrix/client/v3/account/whoami');
  assert.equal(whoami.user_id, '@admin:example.com');
}

async function assertCleanLog(jail: LiveJail): Promise<void> {
  const log = (await jail.exec(['cat', '/var/log/matrix-synapse/homeserver.log'])).stdout;
  assert.match(log, /Synapse now listening on TCP port 8008/);
  const errors = log.split('\n').filter((l) => / - (ERROR|CRITICAL) - /.test(l));
  assert.deepEqual(errors, [], 'no error in Synapse\'s log');
}

async function serve(env: Record<string, string>, options: { base?: string; curl?: string[]; seeds?: string[]; mnt?: string; authKey?: string } = {}): Promise<Served> {
  const jail = await startLive({ ...MINIMAL, DOMAIN: 'example.com', ...env }, {
    synapse: SYNAPSE_COMMAND, mnt: options.mnt ?? freshMnt(), seeds: options.seeds, authKey: options.authKey,
  });
  return { jail, base: options.base ?? 'http://127.0.0.1', curl: options.curl ?? [] };
}

async function withServer(served: Served, body: (s: Served) => Promise<void>): Promise<void> {
  try {
    await body(served);
    await assertCleanLog(served.jail);
  } finally {
    const r = await served.jail.stop();
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /stopped cleanly/);
  }
}

/** Start the SMTP server inside the jail and resolve once it listens. */
async function smtpServer(jail: LiveJail, port: number, mode: 'starttls' | 'implicit'): Promise<void> {
  await jail.exec(['mkdir', '-p', '/tmp/spool']);
  const server = jail.spawn(smtpServerCommand(port, mode, SMTP_USER));
  await new Promise<void>((resolve, reject) => {
    let said = '';
    server.stdout!.on('data', (d: Buffer) => { said += d; if (said.includes('ready')) resolve(); });
    server.stderr!.on('data', (d: Buffer) => { said += d; });
    server.once('exit', (code) => reject(new Error(`SMTP server exited ${code}: ${said}`)));
  });
}

/** Registration needs a verified email: Synapse itself sends the verification mail through the real SMTP server. */
async function registrationMailArrives(s: Served): Promise<void> {
  const flows = await request(s.jail, `${s.base}/_matrix/client/v3/register`, { method: 'POST', body: { username: 'newcomer', password: 'newcomer-password-1' }, curl: s.curl });
  assert.equal(flows.status, 401, flows.body);
  for (const flow of flows.json().flows) assert.ok(flow.stages.includes('m.login.email.identity'), JSON.stringify(flows.json().flows));
  const token = await request(s.jail, `${s.base}/_matrix/client/v3/register/email/requestToken`, {
    method: 'POST', body: { client_secret: 'secret-for-the-test', email: 'newcomer@example.org', send_attempt: 1 }, curl: s.curl,
  });
  assert.equal(token.status, 200, token.body);
  const started = Date.now();
  let envelope = '';
  while (!envelope) {
    envelope = (await s.jail.exec(['sh', '-c', 'cat /tmp/spool/1.json 2>/dev/null'])).stdout;
    if (!envelope && Date.now() - started > 60_000) throw new Error('no mail from Synapse within 60 s');
    if (!envelope) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.deepEqual(JSON.parse(envelope), { mail_from: 'matrix@example.com', rcpt_tos: ['newcomer@example.org'], login: SMTP_USER, tls: true });
  const message = (await s.jail.exec(['cat', '/tmp/spool/1.eml'])).stdout;
  assert.match(message, /^To: newcomer@example\.org$/m);
  assert.match(message, /^Subject: \[example\.com\] Validate your email$/m);
}

describe('real Synapse behind the rendered nginx', { skip }, () => {
  const ca = skip ? undefined as unknown as TestCa : makeCa(join(tempDir('synapse-ca-'), 'ca'));

  it('NOSSL', async () => {
    await withServer(await serve({ NOSSL: 'true' }), checkServed);
  });

  it('TLS before a certificate (ACME failed): Matrix over plain HTTP on 80', async () => {
    await withServer(await serve({ NOSSL: 'false', SSLEMAIL: 'ssl@example.com', STANDIN_ACME_FAIL: '1' }), async (s) => {
      assert.match(s.jail.output(), /no TLS certificate yet: serving plain HTTP/);
      await checkServed(s);
    });
  });

  it('TLS with a certificate on /mnt: HTTPS on 443 and 8448', async () => {
    const mnt = freshMnt();
    const issued = ca.issue('example.com');
    mkdirSync(join(mnt, 'certs', 'example.com'), { recursive: true });
    for (const f of ['fullchain.pem', 'privkey.pem']) copyFileSync(join(issued, f), join(mnt, 'certs', 'example.com', f));
    await withServer(await serve({ NOSSL: 'false', SSLEMAIL: 'ssl@example.com' }, { mnt, seeds: [testSeed(ca)], base: 'https://example.com' }), async (s) => {
      await checkServed(s);
      const keys = await request(s.jail, 'https://example.com:8448/_matrix/key/v2/server');
      assert.equal(keys.json().server_name, 'example.com');
      const redirect = await request(s.jail, 'http://127.0.0.1/_matrix/client/versions');
      assert.equal(redirect.status, 301);
    });
  });

  for (const [port, mode] of [[587, 'starttls'], [465, 'implicit']] as const) {
    it(`SMTP ${port} with credentials and open registration: Synapse's own verification mail arrives`, async () => {
      const seeds = [testSeed(ca), smtpSeed(tempDir('synapse-smtp-'), ca, SMTP_PASS)];
      const env = { ENABLEREGISTRATION: 'true', SMTPHOST: 'smtp.test', SMTPPORT: String(port), SMTPUSER: SMTP_USER, SMTPPASS: SMTP_PASS, SMTPFROM: 'matrix@example.com' };
      await withServer(await serve(env, { seeds }), async (s) => {
        await smtpServer(s.jail, port, mode);
        await checkServed(s);
        await registrationMailArrives(s);
      });
    });
  }

  it('open registration without mail: anyone registers (and cook warned)', async () => {
    await withServer(await serve({ ENABLEREGISTRATION: 'true' }), async (s) => {
      assert.match(s.jail.output(), /ANYONE can register/);
      await checkServed(s);
      const first = await request(s.jail, `${s.base}/_matrix/client/v3/register`, { method: 'POST', body: { username: 'drifter', password: 'drifter-password-1' } });
      assert.equal(first.status, 401);
      const done = await request(s.jail, `${s.base}/_matrix/client/v3/register`, {
        method: 'POST', body: { username: 'drifter', password: 'drifter-password-1', auth: { type: 'm.login.dummy', session: first.json().session } },
      });
      assert.equal(done.status, 200, done.body);
      assert.equal(done.json().user_id, '@drifter:example.com');
    });
  });

  it('LDAP: a directory user logs in over StartTLS; with the LDAP server gone, logins still answer', async (t) => {
    const manager = 'Manager:p@ss#word|&%$x'; // slapd.conf cannot hold a double quote in rootpw
    const seeds = [testSeed(ca), ldapSeed(ca, manager)];
    let served: Served;
    try {
      served = await serve({ LDAPSERVER: 'ldap.test', LDAPDOMAIN: 'example.com', LDAPPASSWORD: manager }, { seeds });
    } catch (error) {
      const text = String(error);
      if (/No module named 'ldap_auth_provider'|cannot import name 'LdapAuthProviderModule'|has no attribute 'LdapAuthProviderModule'/.test(text)) {
        t.skip(`the Synapse at TEST_SYNAPSE_COMMAND has no matrix-synapse-ldap3 0.2 or later: not proven: LDAP login through Synapse, local logins during an LDAP outage`);
        return;
      }
      throw error;
    }
    await withServer(served, async (s) => {
      // cook looked before slapd was up.
      assert.match(s.jail.output(), /WARNING: LDAP server ldap\.test:389 is not reachable/);
      const added = await s.jail.exec(['/usr/sbin/slapadd', '-f', '/tmp/ldap/slapd.conf', '-l', '/tmp/ldap/entries.ldif']);
      assert.equal(added.code, 0, added.stderr);
      const slapd = s.jail.spawn(['/usr/sbin/slapd', '-f', '/tmp/ldap/slapd.conf', '-h', 'ldap://127.0.0.1:389/', '-d', '256']);
      await new Promise<void>((resolve, reject) => {
        let said = '';
        slapd.stderr!.on('data', (d: Buffer) => { said += d; if (said.includes('slapd starting')) resolve(); });
        slapd.once('exit', (code) => reject(new Error(`slapd exited ${code}: ${said}`)));
      });
      await checkServed(s);
      const alice = await login(s.jail, s.base, 'alice', 'alice-password-1');
      assert.equal(alice.userId, '@alice:example.com');
      const profile = await alice.get('/_matrix/client/v3/profile/%40alice%3Aexample.com');
      assert.equal(profile.displayname, 'Alice Liddell');

      // The outage: slapd killed. Logins must answer (the provider alone would wait forever).
      slapd.kill('SIGKILL');
      await new Promise((resolve) => slapd.once('exit', resolve));
      const started = Date.now();
      const admin = await login(s.jail, s.base, 'admin', ADMIN_PASSWORD);
      const localSeconds = (Date.now() - started) / 1000;
      assert.equal(admin.userId, '@admin:example.com');
      assert.ok(localSeconds < 10, `a local login took ${localSeconds} s during the outage`);
      const tryAlice = async () => {
        const at = Date.now();
        const answer = await request(s.jail, `${s.base}/_matrix/client/v3/login`, {
          method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'alice-password-1' },
        });
        return { answer, seconds: (Date.now() - at) / 1000 };
      };
      let refused = await tryAlice();
      if (refused.answer.status === 429) {
        // Synapse's login rate limit (rc_login) for this address: wait as it says, then ask again.
        await new Promise((resolve) => setTimeout(resolve, refused.answer.json().retry_after_ms + 100));
        refused = await tryAlice();
      }
      assert.equal(refused.answer.status, 403, refused.answer.body);
      assert.ok(refused.seconds < 10, `a directory login took ${refused.seconds} s to be refused during the outage`);
    });
  });

  it('CONTROLUSER', async () => {
    const key = join(tempDir('synapse-key-'), 'id.pub');
    writeFileSync(key, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISynapseKey ops@example\n');
    await withServer(await serve({ CONTROLUSER: 'true' }, { authKey: key }), checkServed);
  });
});

const LDAP_SUFFIX = 'dc=example,dc=com';
/** slapd's files for the jail: StartTLS with a certificate for ldap.test, one posixAccount user. */
function ldapSeed(ca: TestCa, managerPassword: string): string {
  const seed = tempDir('synapse-ldap-');
  const dir = join(seed, 'tmp', 'ldap');
  mkdirSync(join(dir, 'db'), { recursive: true });
  ca.issue('ldap.test', dir);
  writeFileSync(join(dir, 'slapd.conf'), [
    ...['core', 'cosine', 'nis', 'inetorgperson'].map((s) => `include /etc/ldap/schema/${s}.schema`),
    'pidfile /tmp/ldap/slapd.pid', 'modulepath /usr/lib/ldap', 'moduleload back_mdb',
    'TLSCertificateFile /tmp/ldap/ldap.test/fullchain.pem', 'TLSCertificateKeyFile /tmp/ldap/ldap.test/privkey.pem',
    'database mdb', `suffix "${LDAP_SUFFIX}"`, `rootdn "cn=Manager,${LDAP_SUFFIX}"`, `rootpw "${managerPassword}"`, 'directory /tmp/ldap/db', '',
  ].join('\n'));
  writeFileSync(join(dir, 'entries.ldif'), `dn: ${LDAP_SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n`
    + `dn: ou=People,${LDAP_SUFFIX}\nobjectClass: organizationalUnit\nou: People\n\n`
    + `dn: uid=alice,ou=People,${LDAP_SUFFIX}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: alice\ncn: Alice Liddell\nsn: Liddell\n`
    + 'mail: alice@example.com\nuidNumber: 2001\ngidNumber: 2001\nhomeDirectory: /home/alice\nuserPassword: alice-password-1\n');
  return seed;
}
