// The project's own update flavour (flavours/fbsd-update-eol.sh) and the image's
// runtime check (libexec/runtime-check), run unchanged in the jail sandbox with
// the freebsd-update stand-in, which fails like freebsd-update.sh past the end of life.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FLAVOURS, runInJail } from '../../scripts/cook-render.js';
import { tempDir } from '../helpers/tmp.js';
import { jailUnavailable } from './jail.js';

function seedWith(files: Record<string, { text: string; mode?: number }>): string {
  const seed = tempDir('upd-seed-');
  for (const [path, f] of Object.entries(files)) {
    mkdirSync(join(seed, path, '..'), { recursive: true });
    writeFileSync(join(seed, path), f.text);
    chmodSync(join(seed, path), f.mode ?? 0o644);
  }
  return seed;
}

async function update(env: Record<string, string>) {
  const seed = tempDir('upd-flv-');
  mkdirSync(join(seed, 'tmp'), { recursive: true });
  copyFileSync(join(FLAVOURS, 'fbsd-update-eol.sh'), join(seed, 'tmp', 'fbsd-update-eol.sh'));
  chmodSync(join(seed, 'tmp', 'fbsd-update-eol.sh'), 0o755);
  const out = join(tempDir('upd-out-'), 'tree');
  const r = await runInJail({ out, seeds: [seed], command: ['/tmp/fbsd-update-eol.sh', 'p-amd64-13_0'], env: { STANDIN_FREEBSD_VERSION: '13.0-RELEASE', ...env } });
  const record = existsSync(join(out, 'var/log/stand-ins.log')) ? readFileSync(join(out, 'var/log/stand-ins.log'), 'utf8') : '';
  return { ...r, out, record, at: (p: string) => join(out, p) };
}

describe('fbsd-update-eol flavour', { skip: jailUnavailable() }, () => {
  it('past the end of life: fetch fails as freebsd-update does, install still applies it, the image records it loudly', async () => {
    const r = await update({ STANDIN_FREEBSD_UPDATE_EOL: '1' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /HAS PASSED ITS END-OF-LIFE DATE/);
    assert.match(r.stdout, /WARNING: FreeBSD 13\.0-RELEASE-p3 IS PAST ITS END OF LIFE/);
    assert.match(readFileSync(r.at('usr/local/share/matrix-synapse-nomad/end-of-life'), 'utf8'), /^FreeBSD 13\.0-RELEASE-p3 is past its end of life/);
    assert.match(r.record, /freebsd-update --not-running-from-cron --currently-running 13\.0-RELEASE fetch\nfreebsd-update --not-running-from-cron --currently-running 13\.0-RELEASE install/);
  });

  it('the stock flavour line (fetch install in one call) fails on the same release: why the project has its own', async () => {
    const seed = seedWith({ 'tmp/stock.sh': { text: '#!/bin/sh\nexport PAGER=/bin/cat\nfreebsd-update --not-running-from-cron fetch install\n', mode: 0o755 } });
    const r = await runInJail({ out: join(tempDir('upd-out-'), 'tree'), seeds: [seed], command: ['/tmp/stock.sh'], env: { STANDIN_FREEBSD_UPDATE_EOL: '1' } });
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stdout, /Installing updates/);
  });

  it('a supported release updates without a notice', async () => {
    const r = await update({});
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(r.at('usr/local/share/matrix-synapse-nomad/end-of-life')));
  });

  it('any other fetch failure fails the flavour (and so pot create)', async () => {
    const r = await update({ STANDIN_FREEBSD_UPDATE_FAIL: '1' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /freebsd-update fetch failed \(exit 1\) for another reason than the end of life/);
  });
});

describe('runtime-check helper', { skip: jailUnavailable() }, () => {
  // A Python the jail "has": the real python3 with a fake site folder, so imports succeed or fail for real.
  function image(synapseInit: string): string {
    return seedWith({
      'usr/local/bin/python3.11': { text: '#!/bin/sh\nPYTHONPATH=/usr/local/lib/site exec /usr/bin/python3 "$@"\n', mode: 0o755 },
      'usr/local/bin/synctl': { text: '#!/usr/local/bin/python3.11\n', mode: 0o755 },
      'usr/local/lib/site/synapse/__init__.py': { text: synapseInit },
      'usr/local/lib/site/ldap_auth_provider.py': { text: '__version__ = "0.3.0"\n' },
      'usr/local/sbin/nginx': { text: '#!/bin/sh\necho "nginx version: nginx/1.26.2" >&2\n', mode: 0o755 },
      'usr/local/sbin/acme.sh': { text: '#!/bin/sh\necho "v3.0.7"\n', mode: 0o755 },
      'usr/local/libexec/matrix-synapse-nomad/runtime-check': { text: readFileSync(join(FLAVOURS, 'matrix-synapse-nomad.d', 'libexec', 'runtime-check'), 'utf8'), mode: 0o755 },
    });
  }
  const run = (seed: string) => runInJail({ out: join(tempDir('rt-out-'), 'tree'), seeds: [seed], command: ['/usr/local/libexec/matrix-synapse-nomad/runtime-check'] });

  it('every program answers: one ok line each, exit 0', async () => {
    const r = await run(image('__version__ = "1.116.0"\n'));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok   net-im\/py-matrix-synapse: synapse 1\.116\.0$/m);
    assert.match(r.stdout, /^ok   net\/py-matrix-synapse-ldap3: ldap_auth_provider 0\.3\.0$/m);
    assert.match(r.stdout, /^ok   www\/nginx: nginx version: nginx\/1\.26\.2$/m);
    assert.match(r.stdout, /^ok   security\/acme\.sh: v3\.0\.7$/m);
  });

  it('a package built for a newer minor: the import error names the package, exit 1', async () => {
    const r = await run(image('raise ImportError("/lib/libc.so.7: version FBSD_1.8 required by _rust.so not found")\n'));
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAIL net-im\/py-matrix-synapse: \/usr\/local\/bin\/python3\.11 exited 1: ImportError: \/lib\/libc\.so\.7: version FBSD_1\.8 required/m);
    assert.match(r.stderr, /runtime check failed for: net-im\/py-matrix-synapse/);
  });
});
