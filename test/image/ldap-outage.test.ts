// LDAP outages. matrix-synapse-ldap3 hands ldap3 a ServerPool with ldap3's
// defaults (active=True: look for a live server forever); Synapse asks the
// provider before its own password check, so with the LDAP server down every
// password login hangs, local accounts included. The image's module
// (libexec/matrix_synapse_nomad_ldap.py) bounds that to one round of attempts,
// and cook warns at start when the server does not answer. Real ldap3 (Debian's
// python3-ldap3), real slapd and the real provider: matrix-synapse-ldap3 0.2 or
// later, from the machine's Python or from TEST_LDAP_PROVIDER_PATH (a folder on
// PYTHONPATH, e.g. the site folder of a local Synapse; docs/image.md, "Tests").
// Debian ships 0.1.4, too old: then these checks skip, saying what was not proven.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../scripts/cook-render.js';
import { freePort } from '../helpers/ports.js';
import { startLive } from '../helpers/synapse.js';
import { tempDir } from '../helpers/tmp.js';
import { jailUnavailable, MINIMAL } from './jail.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
function ldap3Missing(): string | undefined {
  try { execFileSync(PYTHON, ['-c', 'import ldap3'], { stdio: 'ignore' }); return undefined; } catch { return 'python3-ldap3 not installed (sh scripts/install-test-tools.sh)'; }
}
const PYTHONPATH = [join(PROJECT_ROOT, 'flavours', 'matrix-synapse-nomad.d', 'libexec'), ...(process.env.TEST_LDAP_PROVIDER_PATH ? [process.env.TEST_LDAP_PROVIDER_PATH] : [])].join(':');
function providerMissing(): string | undefined {
  const check = 'import ldap_auth_provider as p, sys; sys.exit(0 if hasattr(p.LdapAuthProviderModule, "_get_server") and hasattr(p.LdapAuthProviderModule, "parse_config") else 1)';
  try { execFileSync(PYTHON, ['-c', check], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '', PYTHONPATH } }); return undefined; } catch {
    return 'no matrix-synapse-ldap3 0.2 or later here (set TEST_LDAP_PROVIDER_PATH): not proven: a login against a down LDAP server gives up after one round with the image\'s module, and cook warns at start';
  }
}
const skip = ldap3Missing() ?? (existsSync('/usr/sbin/slapd') ? undefined : 'slapd not installed') ?? providerMissing();
const PLAIN = 'ldap_auth_provider.LdapAuthProviderModule';
const BOUNDED = 'matrix_synapse_nomad_ldap.BoundedLdapAuthProviderModule';
const SUFFIX = 'dc=corp,dc=example,dc=org';

/** One login attempt; undefined when it was still trying after LIMIT ms (then killed). */
async function attempt(provider: string, uri: string, startTls: boolean, limitMs: number): Promise<{ result: boolean | null; seconds: number } | undefined> {
  const args = [join(PROJECT_ROOT, 'test', 'image', 'ldap-login-probe.py'), provider, uri, `uid=alice,ou=People,${SUFFIX}`, 'alice-password'];
  // No __pycache__ in the flavour's payload folder.
  const env = { PATH: process.env.PATH ?? '', PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1', PROBE_START_TLS: startTls ? '1' : '' };
  try {
    const { stdout } = await run(PYTHON, args, { env, timeout: limitMs, killSignal: 'SIGKILL' });
    return JSON.parse(stdout);
  } catch (error: any) {
    if (error.killed) return undefined;
    throw error;
  }
}

describe('LDAP server unreachable', { skip }, () => {
  let slapd: ChildProcess | undefined;
  let port = 0;
  const dir = skip ? '' : tempDir('ldap-outage-');

  before(async () => {
    mkdirSync(join(dir, 'db'));
    writeFileSync(join(dir, 'slapd.conf'), [
      ...['core', 'cosine', 'nis', 'inetorgperson'].map((s) => `include /etc/ldap/schema/${s}.schema`),
      `pidfile ${dir}/slapd.pid`, 'modulepath /usr/lib/ldap', 'moduleload back_mdb', 'database mdb',
      `suffix "${SUFFIX}"`, `rootdn "cn=Manager,${SUFFIX}"`, 'rootpw "manager-password"', `directory ${dir}/db`, '',
    ].join('\n'));
    writeFileSync(join(dir, 'entries.ldif'), `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Corp\ndc: corp\n\n`
      + `dn: ou=People,${SUFFIX}\nobjectClass: organizationalUnit\nou: People\n\n`
      + `dn: uid=alice,ou=People,${SUFFIX}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: alice\ncn: Alice\nsn: A\n`
      + 'uidNumber: 2001\ngidNumber: 2001\nhomeDirectory: /home/alice\nuserPassword: alice-password\n');
    execFileSync('/usr/sbin/slapadd', ['-f', join(dir, 'slapd.conf'), '-l', join(dir, 'entries.ldif')], { stdio: 'pipe' });
    port = await freePort();
    slapd = spawn('/usr/sbin/slapd', ['-f', join(dir, 'slapd.conf'), '-h', `ldap://127.0.0.1:${port}/`, '-d', '256'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let log = '';
      slapd!.stderr!.on('data', (d: Buffer) => { log += d; if (log.includes('slapd starting')) resolve(); });
      slapd!.once('exit', (code) => reject(new Error(`slapd exited ${code}: ${log}`)));
    });
  });
  after(() => { slapd?.kill('SIGKILL'); });

  it('with the provider\'s own pool a login is still waiting after 15 s (ldap3 retries every 10 s, forever)', async () => {
    const down = `ldap://127.0.0.1:${await freePort()}`;
    assert.equal(await attempt(PLAIN, down, false, 15_000), undefined);
  });

  it('with the image\'s module it gives up after one round, so Synapse checks local accounts', async () => {
    const down = `ldap://127.0.0.1:${await freePort()}`;
    const outcome = await attempt(BOUNDED, down, false, 15_000);
    assert.ok(outcome, 'the login came back');
    assert.equal(outcome.result, null, 'LDAP declined (Synapse then tries its own accounts)');
    assert.ok(outcome.seconds < 6, `gave up after ${outcome.seconds} s`);
  });

  it('a reachable server still logs the user in through the image\'s module', async () => {
    const up = `ldap://127.0.0.1:${port}`;
    assert.deepEqual((await attempt(BOUNDED, up, false, 15_000))?.result, true);
  });

  it('cook warns at start when the LDAP server does not answer', { skip: jailUnavailable() }, async () => {
    const seed = tempDir('ldap-hosts-');
    mkdirSync(join(seed, 'etc'));
    writeFileSync(join(seed, 'etc', 'hosts'), '127.0.0.1 localhost ldap.corp.example.org\n');
    const jail = await startLive({ ...MINIMAL, LDAPSERVER: 'ldap.corp.example.org', LDAPDOMAIN: 'corp.example.org', LDAPPASSWORD: 'manager-password' }, { seeds: [seed] });
    const r = await jail.stop();
    assert.equal(r.code, 0, r.output);
    assert.match(r.stderr, /WARNING: LDAP server ldap\.corp\.example\.org:389 is not reachable/);
    assert.match(r.file('etc/rc.conf'), /^synapse_env="PYTHONPATH=\/usr\/local\/libexec\/matrix-synapse-nomad"$/m);
    assert.equal(r.homeserver().modules[0].module, BOUNDED);
    assert.ok(r.exists('usr/local/libexec/matrix-synapse-nomad/matrix_synapse_nomad_ldap.py'));
  });
});
