// A throwaway certificate authority for the tests (openssl): a root, an
// intermediate under it, and server certificates from the intermediate, so a
// client that trusts only the root needs the chain the server sends
// (fullchain.pem = leaf + intermediate, as ACME hands it out).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  /** PEM of the root: what a client must trust. */
  rootPem: string;
  /** Issue a certificate for NAME into DIR/NAME/{fullchain,privkey,cert}.pem; returns that folder. */
  issue(name: string, into?: string): string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makeCa(dir: string): TestCa {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n');
  openssl(['req', '-x509', ...EC, '-days', '2', '-subj', '/CN=matrix-synapse-nomad test root',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', 'root.key', '-out', 'root.pem'], dir);
  openssl(['req', ...EC, '-subj', '/CN=matrix-synapse-nomad test intermediate', '-keyout', 'inter.key', '-out', 'inter.csr'], dir);
  openssl(['x509', '-req', '-in', 'inter.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial',
    '-days', '2', '-extfile', 'ca.ext', '-out', 'inter.pem'], dir);
  const rootPem = readFileSync(join(dir, 'root.pem'), 'utf8');
  return {
    dir,
    rootPem,
    issue(name: string, into = dir): string {
      const out = join(into, name);
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'leaf.ext'), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${name}\n`);
      openssl(['req', ...EC, '-subj', `/CN=${name}`, '-keyout', 'privkey.pem', '-out', 'leaf.csr'], out);
      openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', join(dir, 'inter.pem'), '-CAkey', join(dir, 'inter.key'),
        '-CAcreateserial', '-days', '2', '-extfile', 'leaf.ext', '-out', 'cert.pem'], out);
      writeFileSync(join(out, 'fullchain.pem'), readFileSync(join(out, 'cert.pem'), 'utf8') + readFileSync(join(dir, 'inter.pem'), 'utf8'));
      return out;
    },
  };
}

/**
 * A seed tree for the jail sandbox that makes the jail trust ROOT (its system
 * bundle, which Python's ssl, Twisted and curl read) and resolve names through
 * its own /etc/hosts.
 */
export function trustAndHostsSeed(seed: string, rootPem: string, hosts: Record<string, string>): string {
  mkdirSync(join(seed, 'etc', 'ssl', 'certs'), { recursive: true });
  writeFileSync(join(seed, 'etc', 'ssl', 'certs', 'ca-certificates.crt'), rootPem);
  const lines = ['127.0.0.1 localhost', ...Object.entries(hosts).map(([name, ip]) => `${ip} ${name}`)];
  writeFileSync(join(seed, 'etc', 'hosts'), lines.join('\n') + '\n');
  return seed;
}
