// Mail for real: a real SMTP server (aiosmtpd) that demands the configured
// login and TLS, on the real submission (587, STARTTLS) and SMTPS (465,
// implicit TLS) ports with a certificate from a throwaway CA, and a client
// that sends with exactly the rendered settings the way Synapse 1.67 does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, runInJail } from '../../scripts/cook-render.js';
import { makeCa, trustAndHostsSeed } from '../helpers/ca.js';
import { smtpSeed } from '../helpers/smtp/seed.js';
import { tempDir } from '../helpers/tmp.js';
import { cook, jailUnavailable, MINIMAL, type Rendered } from './jail.js';

function missingPython(): string | undefined {
  try {
    // The jail sandbox runs Debian's python3 (/usr/bin), whatever else is first on our PATH.
    execFileSync('/usr/bin/python3', ['-c', 'import aiosmtpd, twisted.mail.smtp, yaml'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'python3-aiosmtpd, python3-twisted or python3-yaml missing (sh scripts/install-test-tools.sh)';
  }
}

const skip = jailUnavailable() ?? missingPython();
const SMTP_USER = 'matrix@example.com';
// Every character that could be mangled on the way to Synapse.
const SMTP_PASS = `p@ss "w0rd" 'x' $HOME \\n |&;#%`;

interface Sent { variant: string; exit: number; output: string; envelope?: any; message?: string }

async function probe(r: Rendered, port: number, mode: 'starttls' | 'implicit', variants: string[]): Promise<Map<string, Sent>> {
  const seed = tempDir('mail-seed-');
  const ca = makeCa(join(tempDir('mail-ca-'), 'ca'));
  smtpSeed(seed, ca, SMTP_PASS);
  copyFileSync(join(PROJECT_ROOT, 'test', 'image', 'mail-probe.sh'), join(seed, 'tmp', 'mail-probe.sh'));
  trustAndHostsSeed(seed, ca.rootPem, { 'smtp.test': '127.0.0.1' });
  const result = await runInJail({
    out: join(tempDir('mail-'), 'tree'), mnt: join(r.out, 'mnt'), seeds: [r.out, seed], privateNetwork: true,
    command: ['sh', '/tmp/mail-probe.sh', String(port), mode, SMTP_USER, ...variants],
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const sent = new Map<string, Sent>();
  for (const block of result.stdout.split(/^=== /m).slice(1)) {
    const [head, ...rest] = block.split('\n');
    const [variant, , exit] = head!.split(' ');
    const body = rest.join('\n');
    const envelope = /^--- envelope\n(.*)$/m.exec(body)?.[1];
    const message = body.split('--- message\n')[1];
    sent.set(variant!, { variant: variant!, exit: Number(exit), output: body.split('--- envelope')[0]!.trim(), envelope: envelope && JSON.parse(envelope), message });
  }
  return sent;
}

const MAIL = { ...MINIMAL, SMTPHOST: 'smtp.test', SMTPUSER: SMTP_USER, SMTPPASS: SMTP_PASS, SMTPFROM: 'matrix@example.com' };

describe('mail through a real SMTP server', { skip }, () => {
  it('587: STARTTLS with the CA-signed certificate, AUTH with the configured login, mail from SMTPFROM arrives', async () => {
    const r = await cook({ ...MAIL, SMTPPORT: '587' });
    assert.equal(r.code, 0, r.output);
    const sent = await probe(r, 587, 'starttls', ['as-rendered', 'wrong-password', 'no-tls']);
    const ok = sent.get('as-rendered')!;
    assert.equal(ok.exit, 0, ok.output);
    assert.deepEqual(ok.envelope, { mail_from: 'matrix@example.com', rcpt_tos: ['someone@example.org'], login: SMTP_USER, tls: true });
    assert.match(ok.message!, /^From: matrix@example\.com$/m);
    assert.match(ok.message!, /^Subject: probe as-rendered$/m);
    // The server really checks: a wrong password and a client without TLS are refused.
    assert.notEqual(sent.get('wrong-password')!.exit, 0);
    assert.equal(sent.get('wrong-password')!.envelope, undefined);
    assert.notEqual(sent.get('no-tls')!.exit, 0);
    assert.equal(sent.get('no-tls')!.envelope, undefined);
  });

  it('465: implicit TLS from the first byte, AUTH, mail arrives; without force_tls it would not', async () => {
    const r = await cook({ ...MAIL, SMTPPORT: '465', SMTPFROM: 'matrix+100%@example.com' });
    assert.equal(r.code, 0, r.output);
    const sent = await probe(r, 465, 'implicit', ['as-rendered', 'no-force-tls']);
    const ok = sent.get('as-rendered')!;
    assert.equal(ok.exit, 0, ok.output);
    assert.equal(ok.envelope.login, SMTP_USER);
    assert.equal(ok.envelope.tls, true);
    // The literal % survives Synapse's own %(app)s expansion (undoubled it would be a format error).
    assert.equal(ok.envelope.mail_from, 'matrix+100%@example.com');
    assert.notEqual(sent.get('no-force-tls')!.exit, 0);
    assert.equal(sent.get('no-force-tls')!.envelope, undefined);
  });
});

