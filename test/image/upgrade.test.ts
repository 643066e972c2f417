// Upgrades: data laid down on /mnt by the previous image version's cook (its
// flavour taken from git, built and run in the jail sandbox for real) is taken
// over by this version: identity, secrets, certificates, the database file and
// the control user's home stay byte for byte (contents, modes, owners), and the
// configuration is rendered anew by this version. With TEST_SYNAPSE_COMMAND, a
// user created under the old version logs in under the new one.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../scripts/cook-render.js';
import { notProven, startLive, SYNAPSE_COMMAND, synapseUnavailable, waitHealthy } from '../helpers/synapse.js';
import { tempDir } from '../helpers/tmp.js';
import { cook, jailUnavailable, SHARED_SECRET } from './jail.js';
import { extractFlavours, previousRelease, type Previous } from './previous-release.js';
import { login, registerUser } from './synapse-client.js';

const previous = previousRelease();
const skip = jailUnavailable() ?? (existsSync('/usr/sbin/nginx') ? undefined : 'Debian nginx not installed')
  ?? (typeof previous === 'string' ? `upgrade not proven: ${previous}` : undefined);

const PARAMS = {
  DOMAIN: 'example.com', ALERTEMAIL: 'admin@example.com', MYSHAREDSECRET: SHARED_SECRET,
  NOSSL: 'false', SSLEMAIL: 'ssl@example.com', CONTROLUSER: 'true',
};

/** Every file, folder and link under ROOT: what it is, its mode, owner and content digest. */
function snapshot(root: string): Map<string, string> {
  const entries = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const key = rel ? `${rel}/${name}` : name;
      const st = lstatSync(path);
      const owner = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) entries.set(key, `link ${readlinkSync(path)}`);
      else if (st.isDirectory()) { entries.set(key, `dir ${owner}`); walk(path, key); }
      else entries.set(key, `file ${owner} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
    }
  };
  walk(root, '');
  return entries;
}

function certificateFingerprint(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: pem, encoding: 'utf8' }).trim();
}

describe(`upgrade from the previous image version (${typeof previous === 'string' ? 'none' : previous.label})`, { skip }, () => {
  let oldImage = '';
  let mnt = '';
  let key = '';
  // Made here, not in before(): tempDir's clean-up then runs after the whole suite.
  const work = skip ? '' : tempDir('upgrade-');

  before(async () => {
    const flavours = extractFlavours(previous as Previous, join(work, 'old'));
    oldImage = join(work, 'old-image');
    const built = await buildImage(oldImage, {}, flavours);
    assert.equal(built.code, 0, `building ${(previous as Previous).label}: ${built.stdout}${built.stderr}`);
    mnt = join(work, 'mnt');
    key = join(work, 'id.pub');
    writeFileSync(key, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUpgradeKey ops@example\n');
  });

  async function layDownWithOldVersion(synapse: string, whileRunning?: (jail: Awaited<ReturnType<typeof startLive>>) => Promise<void>) {
    execFileSync('mkdir', ['-p', mnt]);
    chmodSync(mnt, 0o755);
    const old = await startLive(PARAMS, { image: oldImage, mnt, authKey: key, synapse });
    try {
      await waitHealthy(old);
      await whileRunning?.(old);
      // What the operator keeps in the control user's home.
      await old.exec(['sh', '-c', 'printf "notes kept across upgrades\\n" >/mnt/control/notes && chown 1001:1001 /mnt/control/notes']);
    } finally {
      const r = await old.stop();
      assert.equal(r.code, 0, r.output);
    }
  }

  it('keeps identity, secrets, certificate, database and the control home byte for byte; renders the configuration anew', async () => {
    await layDownWithOldVersion('listener');
    const before = snapshot(mnt);
    for (const must of ['synapse/keys/signing.key', 'synapse/secrets/macaroon_secret_key', 'synapse/secrets/form_secret',
      'synapse/server_name', 'synapse/homeserver.db', 'certs/example.com/fullchain.pem', 'certs/example.com/privkey.pem',
      'control/.ssh/authorized_keys', 'control/notes', 'ssh-host-keys/ssh_host_ed25519_key']) {
      assert.ok(before.get(must)?.startsWith('file '), `the previous version left ${must}: ${[...before.keys()].join(', ')}`);
    }

    // This version's first start of a new clone on the same /mnt (render only: cook's own part).
    const now = await cook(PARAMS, { mnt, authKey: key });
    assert.equal(now.code, 0, now.output);
    const after = snapshot(mnt);
    for (const [path, what] of before) assert.equal(after.get(path), what, `${path} changed or vanished`);
    assert.match(now.stdout, /first start of this clone: rendering the configuration/);
    assert.match(now.stdout, /reusing the server's signing key/);
    assert.match(now.stdout, /reusing the certificate for example\.com/);
    const hs = now.homeserver();
    assert.equal(hs.macaroon_secret_key, readFileSync(join(mnt, 'synapse/secrets/macaroon_secret_key'), 'utf8').trim());
    assert.equal(hs.form_secret, readFileSync(join(mnt, 'synapse/secrets/form_secret'), 'utf8').trim());
    assert.equal(hs.signing_key_path, '/mnt/synapse/keys/signing.key');
    assert.equal(hs.database.args.database, '/mnt/synapse/homeserver.db');
    // Rendered anew: exactly what this version renders for a copy of the same data.
    const copy = tempDir('upgrade-copy-');
    cpSync(mnt, copy, { recursive: true });
    const fresh = await cook(PARAMS, { mnt: copy, authKey: key });
    assert.equal(now.file('usr/local/etc/matrix-synapse/homeserver.yaml'), fresh.file('usr/local/etc/matrix-synapse/homeserver.yaml'));
    assert.equal(now.file('usr/local/etc/nginx/matrix-site.conf'), fresh.file('usr/local/etc/nginx/matrix-site.conf'));

    // And it serves with them: the old certificate on 443, the old signing key behind it.
    const live = await startLive(PARAMS, { mnt, authKey: key });
    try {
      await waitHealthy(live);
      const served = await live.exec(['sh', '-c', 'openssl s_client -connect 127.0.0.1:443 -servername example.com </dev/null 2>/dev/null | openssl x509']);
      assert.equal(certificateFingerprint(served.stdout), certificateFingerprint(readFileSync(join(mnt, 'certs/example.com/fullchain.pem'), 'utf8')));
      const keys = await live.exec(['curl', '-sS', '-k', '--resolve', 'example.com:443:127.0.0.1', 'https://example.com/_matrix/key/v2/server']);
      const keyId = readFileSync(join(mnt, 'synapse/keys/signing.key'), 'utf8').split(' ').slice(0, 2).join(':');
      assert.deepEqual(Object.keys(JSON.parse(keys.stdout).verify_keys), [keyId]);
    } finally {
      assert.equal((await live.stop()).code, 0);
    }
  });

  it('real Synapse: a user created under the previous version logs in under this one', { skip: notProven('login under the new version of a user created under the previous one') }, async () => {
    assert.equal(synapseUnavailable(), undefined);
    execFileSync('rm', ['-rf', mnt]);
    await layDownWithOldVersion(SYNAPSE_COMMAND, (old) => registerUser(old, 'veteran', 'veteran-password-1'));
    const live = await startLive(PARAMS, { mnt, authKey: key, synapse: SYNAPSE_COMMAND });
    try {
      await waitHealthy(live);
      // Through the TLS nginx with the certificate the previous version obtained.
      const client = await login(live, 'https://example.com', 'veteran', 'veteran-password-1',
        ['--resolve', 'example.com:443:127.0.0.1', '--cacert', '/mnt/certs/example.com/fullchain.pem']);
      assert.equal(client.userId, '@veteran:example.com');
    } finally {
      assert.equal((await live.stop()).code, 0);
    }
  });
});
