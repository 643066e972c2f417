// The SMTP test server's files for a jail sandbox: the server and the sender
// under /tmp/smtp, a certificate for smtp.test from the test CA under
// /tmp/tls/smtp.test, and the password the server demands in /tmp/smtp-password.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCa } from '../ca.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export function smtpSeed(seed: string, ca: TestCa, password: string): string {
  mkdirSync(join(seed, 'tmp', 'tls'), { recursive: true });
  ca.issue('smtp.test', join(seed, 'tmp', 'tls'));
  cpSync(HERE, join(seed, 'tmp', 'smtp'), { recursive: true, filter: (p) => !p.endsWith('.ts') });
  writeFileSync(join(seed, 'tmp', 'smtp-password'), password + '\n', { mode: 0o600 });
  return seed;
}

/** The server's command line inside the jail: PORT with MODE, demanding USER. */
export function smtpServerCommand(port: number, mode: 'starttls' | 'implicit', user: string): string[] {
  return ['/usr/bin/python3', '/tmp/smtp/smtp-server.py', '--port', String(port), '--tls', mode,
    '--cert', '/tmp/tls/smtp.test/fullchain.pem', '--key', '/tmp/tls/smtp.test/privkey.pem',
    '--user', user, '--password-file', '/tmp/smtp-password', '--spool', '/tmp/spool'];
}
