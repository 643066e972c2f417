// The flavour as pot uses it: the command files, and the build script run in
// the jail sandbox with recording stand-ins for pkg, sysrc and freebsd-version.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildImage, FLAVOURS, PROJECT_ROOT } from '../../scripts/cook-render.js';
import { tempDir } from '../helpers/tmp.js';
import { jailUnavailable } from './jail.js';

const skip = jailUnavailable();
const ORIGINS = ['net-im/py-matrix-synapse', 'net/py-matrix-synapse-ldap3', 'databases/py-psycopg2', 'www/nginx', 'security/acme.sh'];
// pot runs only these sub-commands from a command file and ignores the rest.
const POT_COMMANDS = new Set(['add-dep', 'set-attribute', 'copy-in', 'copy-in-flv', 'mount-in', 'set-rss', 'export-ports', 'set-cmd', 'set-env']);

function lines(file: string): string[] {
  return readFileSync(join(FLAVOURS, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
}

async function build(env: Record<string, string> = {}) {
  const out = join(tempDir('image-'), 'tree');
  const result = await buildImage(out, env);
  const at = (p: string) => join(out, p);
  const record = existsSync(at('tmp/build-stand-ins.log')) ? readFileSync(at('tmp/build-stand-ins.log'), 'utf8').split('\n').filter(Boolean) : [];
  return { ...result, out, at, record };
}

describe('flavour command files', () => {
  it('matrix-synapse-nomad: not persistent, no rc script, copies the payload in', () => {
    const cmds = lines('matrix-synapse-nomad');
    assert.ok(cmds.includes('set-attribute -A persistent -V OFF'));
    assert.ok(cmds.includes('set-attribute -A no-rc-script -V ON'));
    assert.ok(cmds.includes('copy-in -s /usr/local/etc/pot/flavours/matrix-synapse-nomad.d -d /root/matrix-synapse-nomad.d'));
    for (const line of cmds) assert.ok(POT_COMMANDS.has(line.split(' ')[0]!), `pot would ignore: ${line}`);
  });

  it('matrix-synapse-nomad+4 sets cook as the command', () => {
    assert.deepEqual(lines('matrix-synapse-nomad+4'), ['set-cmd -c "/usr/local/bin/cook"']);
  });

  it('the payload\'s image-version is the image definition\'s version', () => {
    const definition = parse(readFileSync(join(PROJECT_ROOT, 'image', 'image.yaml'), 'utf8'));
    assert.equal(readFileSync(join(FLAVOURS, 'matrix-synapse-nomad.d', 'image-version'), 'utf8').trim(), String(definition.version));
  });

  it('the build script and cook are executable', () => {
    for (const f of ['matrix-synapse-nomad.sh', 'matrix-synapse-nomad.d/cook']) {
      assert.ok(statSync(join(FLAVOURS, f)).mode & 0o100, f);
    }
  });
});

describe('flavour build script (matrix-synapse-nomad.sh)', { skip }, () => {
  it('installs the packages by origin, disables sendmail, installs cook, records version and release, cleans up', async () => {
    const b = await build();
    assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.ok(b.record.includes(`pkg install -y ${ORIGINS.join(' ')}`), b.record.join('\n'));
    assert.ok(b.record.includes('pkg bootstrap -f'));
    for (const origin of ORIGINS) assert.ok(b.record.includes(`pkg info -e -O ${origin}`), origin);
    const installed = readFileSync(b.at('var/db/pkg/stand-in-installed'), 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
    assert.deepEqual(installed.sort(), [...ORIGINS].sort());
    const rc = readFileSync(b.at('etc/rc.conf'), 'utf8');
    assert.match(rc, /^sendmail_enable="NONE"$/m);
    assert.match(rc, /^sendmail_submit_enable="NO"$/m);
    assert.equal(statSync(b.at('usr/local/bin/cook')).mode & 0o777, 0o755);
    assert.equal(readFileSync(b.at('usr/local/bin/cook'), 'utf8'), readFileSync(join(FLAVOURS, 'matrix-synapse-nomad.d', 'cook'), 'utf8'));
    for (const helper of ['common.sh', 'params.sh', 'prepare-storage', 'render-synapse', 'render-homeserver.py', 'render-nginx', 'tls-certificate', 'tls-renew', 'control-user']) {
      assert.ok(existsSync(b.at(`usr/local/libexec/matrix-synapse-nomad/${helper}`)), helper);
    }
    assert.equal(readFileSync(b.at('usr/local/share/matrix-synapse-nomad/image-version'), 'utf8'), '0.11.0\n');
    assert.equal(readFileSync(b.at('usr/local/share/matrix-synapse-nomad/freebsd-release'), 'utf8'), '14.3-RELEASE-p4\n');
    for (const dir of ['usr/local/etc/matrix-synapse', 'usr/local/www/acme', 'var/log/nginx', 'var/log/matrix-synapse', 'var/run/matrix-synapse']) {
      assert.ok(statSync(b.at(dir)).isDirectory(), dir);
    }
    assert.ok(b.record.includes('pkg clean -a -y'));
    assert.deepEqual(readdirSync(b.at('var/cache/pkg')), []);
    assert.ok(!existsSync(b.at('root/matrix-synapse-nomad.d')), 'payload removed');
    assert.ok(!existsSync(b.at('usr/local/etc/pkg/repos/FreeBSD.conf')), 'quarterly is the release default');
  });

  it('installs log rotation for the logs nginx and cook write (newsyslog.conf.d, *.conf as /etc/newsyslog.conf includes)', async () => {
    const b = await build();
    assert.equal(b.code, 0, b.stderr);
    const conf = readFileSync(b.at('usr/local/etc/newsyslog.conf.d/matrix-synapse-nomad.conf'), 'utf8');
    const entries = conf.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l) => l.trim().split(/\s+/));
    const files = entries.map((e) => e[0]);
    const nginxConf = readFileSync(join(FLAVOURS, 'matrix-synapse-nomad.d', 'templates', 'nginx.conf'), 'utf8');
    const common = readFileSync(join(FLAVOURS, 'matrix-synapse-nomad.d', 'libexec', 'common.sh'), 'utf8');
    const written = [
      ...[...nginxConf.matchAll(/^\s*(?:error_log|access_log)\s+(\S+);/gm)].map((m) => m[1]),
      ...[...common.matchAll(/^(?:COOK_LOG|ACME_LOG)=(\S+)$/gm)].map((m) => m[1]),
    ];
    assert.deepEqual([...files].sort(), [...written].sort());
    for (const e of entries) {
      // logfilename mode count size when flags [/pid_file sig_num]
      assert.match(e[1]!, /^[0-7]{3}$/, e.join(' '));
      assert.match(e[2]!, /^\d+$/);
      assert.match(e[3]!, /^(\d+|\*)$/);
      assert.match(e[5]!, /^[JCNBGXZ]+$/);
      if (e[0]!.startsWith('/var/log/nginx/')) assert.deepEqual(e.slice(6), ['/var/run/nginx.pid', '30'], 'nginx reopens its logs on SIGUSR1 (30 on FreeBSD)');
      else assert.match(e[5]!, /N/, 'no daemon to signal');
    }
  });

  it('bakes nothing site-specific in: no configuration, secret, key or certificate', async () => {
    const b = await build();
    assert.equal(b.code, 0);
    assert.ok(!existsSync(b.at('usr/local/etc/matrix-synapse/homeserver.yaml')));
    assert.ok(!existsSync(b.at('usr/local/etc/nginx/nginx.conf')));
    assert.ok(!existsSync(b.at('usr/local/etc/pot-is-seasoned')));
    assert.ok(!existsSync(b.at('mnt/synapse')));
    assert.ok(!b.record.some((l) => l.startsWith('generate_signing_key') || l.startsWith('acme.sh')));
  });

  it('PKG_BRANCH=latest switches the repository to latest', async () => {
    const b = await build({ PKG_BRANCH: 'latest' });
    assert.equal(b.code, 0, b.stderr);
    assert.match(readFileSync(b.at('usr/local/etc/pkg/repos/FreeBSD.conf'), 'utf8'), /^FreeBSD: \{ url: "pkg\+https:\/\/pkg\.FreeBSD\.org\/\$\{ABI\}\/latest" \}$/m);
  });

  it('PKG_BRANCH=latest on 15.x overrides the repository the base names, FreeBSD-ports', async () => {
    const b = await build({ PKG_BRANCH: 'latest', STANDIN_BASE_PKG_REPOSITORY: 'FreeBSD-ports' });
    assert.equal(b.code, 0, b.stderr);
    assert.match(readFileSync(b.at('usr/local/etc/pkg/repos/FreeBSD-ports.conf'), 'utf8'), /^FreeBSD-ports: \{ url: ".*\/latest" \}$/m);
    assert.ok(!existsSync(b.at('usr/local/etc/pkg/repos/FreeBSD.conf')), 'no second repository named FreeBSD');
  });

  it('a package missing from the repository fails the build in the install step', async () => {
    const b = await build({ STANDIN_PKG_UNAVAILABLE: 'net/py-matrix-synapse-ldap3' });
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /build failed in step 'install packages'/);
    assert.match(b.stderr, /net\/py-matrix-synapse-ldap3/);
  });

  it('a package missing after a "successful" install fails the build in the verify step, naming it', async () => {
    const b = await build({ STANDIN_PKG_DROP: 'security/acme.sh' });
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /packages missing after install: security\/acme\.sh/);
    assert.match(b.stderr, /build failed in step 'verify packages'/);
    assert.ok(!existsSync(b.at('usr/local/bin/cook')), 'nothing after the failed step ran');
  });
});
