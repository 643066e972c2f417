// cook's whole lifecycle in the jail sandbox with stand-in services: start
// order, staying in the foreground, clean stop on SIGTERM/SIGINT, failing
// services, certificate issuance and reuse, the control user's sshd.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { signalJail, type CookRun } from '../../scripts/cook-render.js';
import { tempDir } from '../helpers/tmp.js';
import { cook, jailUnavailable, MINIMAL, type Rendered } from './jail.js';

const skip = jailUnavailable();
const TLS = { ...MINIMAL, NOSSL: 'false', SSLEMAIL: 'ssl@example.com' };

/** Run cook for real; once it says it is ready, send SIGNAL to the jail's processes. */
function runUntilReady(env: Record<string, string>, options: Partial<CookRun> = {}, signal: NodeJS.Signals = 'SIGTERM'): Promise<Rendered> {
  return cook(env, {
    ...options,
    renderOnly: false,
    onSpawn: (child: ChildProcess) => {
      let seen = '';
      let sent = false;
      child.stdout!.on('data', (d: Buffer) => {
        seen += d;
        if (!sent && seen.includes('cook: ready')) { sent = true; signalJail(child, signal); }
      });
    },
  });
}

function services(r: Rendered): string[] {
  return r.standIns().filter((l) => /^service \S+ (start|stop|reload)$/.test(l));
}

describe('cook lifecycle', { skip }, () => {
  it('starts cron, Synapse and nginx, stays up, and on SIGTERM stops nginx then Synapse and exits 0', async () => {
    const r = await runUntilReady(MINIMAL);
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(services(r), [
      'service cron start', 'service synapse start', 'service nginx start',
      'service nginx stop', 'service synapse stop', 'service cron stop',
    ]);
    assert.match(r.stdout, /matrix-synapse-nomad image 0\.11\.0 \(built on FreeBSD 14\.3-RELEASE-p4\)/);
    assert.match(r.stdout, /received SIGTERM: stopping services/);
    assert.match(r.stdout, /stopped cleanly/);
    assert.match(r.file('etc/rc.conf'), /^synapse_enable="YES"$/m);
    assert.match(r.file('etc/rc.conf'), /^nginx_enable="YES"$/m);
    assert.match(r.file('var/log/cook.log'), /ready: Synapse and nginx are running/);
  });

  it('SIGINT stops it cleanly too', async () => {
    const r = await runUntilReady(MINIMAL, {}, 'SIGINT');
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /received SIGINT/);
    assert.deepEqual(services(r).slice(-3), ['service nginx stop', 'service synapse stop', 'service cron stop']);
  });

  it('a service that fails to start: exit 1 with its last log lines, the others stopped, nginx never started', async () => {
    const failed = await cook({ ...MINIMAL, STANDIN_SERVICE_FAIL: 'synapse' }, { renderOnly: false });
    assert.equal(failed.code, 1, failed.output);
    assert.match(failed.stderr, /ERROR: synapse failed to start/);
    assert.match(failed.stdout, /last lines of \/var\/log\/matrix-synapse\/homeserver\.log/);
    assert.match(failed.stdout, /\| stand-in synapse: fatal: refusing to start/);
    // What the start printed (Synapse's config errors come before its logging) reaches Nomad's log too.
    assert.match(failed.stdout, /> stand-in synapse: error printed before logging is set up/);
    assert.ok(!services(failed).includes('service nginx start'));
    assert.ok(services(failed).includes('service cron stop'));
  });

  it('a daemon whose pid file appears only after start returned (Synapse daemonize) is waited for', async () => {
    const r = await runUntilReady({ ...MINIMAL, STANDIN_SERVICE_LATE_PID: 'synapse' });
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(services(r).slice(0, 3), ['service cron start', 'service synapse start', 'service nginx start']);
    assert.ok(r.standIns().filter((l) => l === 'service synapse status').length >= 2, 'asked again after an empty pid file');
  });

  it('a daemon not running within COOK_START_WAIT seconds fails the start', async () => {
    const r = await cook({ ...MINIMAL, STANDIN_SERVICE_LATE_PID: 'synapse', COOK_START_WAIT: '1' }, { renderOnly: false });
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /ERROR: synapse is not running 1s after start/);
    assert.ok(!services(r).includes('service nginx start'));
  });

  it('a service that dies later: exit 1 naming it, the others stopped', async () => {
    const r = await cook({ ...MINIMAL, STANDIN_SERVICE_DIES: 'synapse', COOK_WATCH_INTERVAL: '1' }, { renderOnly: false });
    assert.equal(r.code, 1, r.output);
    assert.match(r.stderr, /ERROR: synapse stopped unexpectedly/);
    assert.ok(services(r).includes('service nginx stop'));
    assert.ok(!services(r).includes('service synapse stop'));
  });

  it('TLS: issues through the webroot from ZeroSSL, installs on /mnt, switches nginx to HTTPS; the next allocation reuses it', async () => {
    const mnt = tempDir();
    const first = await runUntilReady(TLS, { mnt });
    assert.equal(first.code, 0, first.output);
    const acme = first.standIns().filter((l) => l.startsWith('acme.sh'));
    assert.ok(acme.some((l) => l.includes('--server zerossl --register-account -m ssl@example.com')), acme.join('\n'));
    assert.ok(acme.some((l) => l.includes('--server zerossl --issue -d example.com -w /usr/local/www/acme')), acme.join('\n'));
    assert.ok(acme.some((l) => l.includes('--install-cert -d example.com --key-file /mnt/certs/example.com/privkey.pem --fullchain-file /mnt/certs/example.com/fullchain.pem --reloadcmd service nginx reload')));
    assert.ok(acme.every((l) => l.includes('--config-home /mnt/acme')));
    assert.match(first.file('usr/local/etc/nginx/matrix-site.conf'), /^# mode: tls/);
    assert.ok(services(first).includes('service nginx reload'));
    assert.match(first.stdout, /HTTPS is on for example\.com/);
    assert.deepEqual(readdirSync(join(mnt, 'certs', 'example.com')).sort(), ['fullchain.pem', 'privkey.pem']);

    const second = await runUntilReady(TLS, { mnt });
    assert.equal(second.code, 0, second.output);
    assert.ok(!second.standIns().some((l) => l.includes('--issue')), 'no new issuance while the certificate is valid');
    assert.match(second.stdout, /reusing the certificate for example\.com/);
    assert.match(second.file('usr/local/etc/nginx/matrix-site.conf'), /^# mode: tls/);
  });

  it('TLS issuance failure: says why, keeps serving HTTP, does not die', async () => {
    const r = await runUntilReady({ ...TLS, STANDIN_ACME_FAIL: '1' });
    assert.equal(r.code, 0, r.output);
    assert.match(r.stderr, /TLS: ZeroSSL did not issue a certificate for example\.com/);
    assert.match(r.stdout, /Verify error: Invalid response/);
    assert.match(r.stderr, /serving plain HTTP on port 80 so that ACME can retry/);
    assert.match(r.file('usr/local/etc/nginx/matrix-site.conf'), /^# mode: bootstrap/);
    assert.match(r.file('etc/crontab'), /tls-renew/);
  });

  it('CONTROLUSER: sshd started, its host keys kept on /mnt and restored by the next allocation', async () => {
    const mnt = tempDir();
    const key = join(tempDir(), 'id.pub');
    writeFileSync(key, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey ops@example\n');
    const first = await runUntilReady({ ...MINIMAL, CONTROLUSER: 'true' }, { mnt, authKey: key });
    assert.equal(first.code, 0, first.output);
    assert.ok(services(first).includes('service sshd start'));
    const hostKey = readFileSync(join(mnt, 'ssh-host-keys', 'ssh_host_ed25519_key'), 'utf8');
    const second = await runUntilReady({ ...MINIMAL, CONTROLUSER: 'true' }, { mnt, authKey: key });
    assert.equal(second.code, 0, second.output);
    assert.equal(second.file('etc/ssh/ssh_host_ed25519_key'), hostKey);
  });
});
