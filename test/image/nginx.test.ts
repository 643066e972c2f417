// The rendered nginx configuration, checked by Debian's nginx (`nginx -t`)
// in the jail sandbox at the real paths, for the three modes cook renders.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, runInJail } from '../../scripts/cook-render.js';
import { tempDir } from '../helpers/tmp.js';
import { cook, jailUnavailable, MINIMAL, type Rendered } from './jail.js';

const NGINX = '/usr/sbin/nginx';
const skip = jailUnavailable() ?? (existsSync(NGINX) ? undefined : 'Debian nginx not installed');
const SITE = 'usr/local/etc/nginx/matrix-site.conf';

async function nginxTest(r: Rendered, mnt = join(r.out, 'mnt')) {
  // The rendered tree is the root; the same persistent storage is at /mnt.
  return runInJail({
    out: join(tempDir('nginx-t-'), 'tree'), mnt, seeds: [r.out],
    command: [NGINX, '-t', '-c', '/usr/local/etc/nginx/nginx.conf'],
  });
}

function testCertificate(mnt: string, domain: string): void {
  const dir = join(mnt, 'certs', domain);
  mkdirSync(dir, { recursive: true });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', `/CN=${domain}`,
    '-keyout', join(dir, 'privkey.pem'), '-out', join(dir, 'fullchain.pem')], { stdio: 'ignore' });
}

const PROBE = join(PROJECT_ROOT, 'test', 'image', 'nginx-probe.sh');

/** Serve the rendered tree with Debian's nginx and a stand-in Synapse in a private network; NAME -> response. */
async function probe(r: Rendered, mode: 'http' | 'tls', mnt = join(r.out, 'mnt')): Promise<Map<string, { status: number; headers: string; body: string }>> {
  const seed = tempDir('probe-seed-');
  mkdirSync(join(seed, 'tmp'));
  copyFileSync(PROBE, join(seed, 'tmp', 'nginx-probe.sh'));
  const result = await runInJail({
    out: join(tempDir('probe-'), 'tree'), mnt, seeds: [r.out, seed], privateNetwork: true,
    command: ['sh', '/tmp/nginx-probe.sh', mode],
  });
  assert.equal(result.code, 0, result.stderr);
  const responses = new Map<string, { status: number; headers: string; body: string }>();
  for (const block of result.stdout.split(/^=== /m).slice(1)) {
    const name = block.slice(0, block.indexOf('\n'));
    const response = block.slice(name.length + 1).replace(/\r/g, '');
    const split = response.indexOf('\n\n');
    const headers = response.slice(0, split);
    responses.set(name, { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(headers)?.[1] ?? 0), headers, body: response.slice(split + 2).trim() });
  }
  return responses;
}

function proxyBlock(r: Rendered): string {
  return r.file('usr/local/etc/nginx/matrix-proxy.conf');
}

describe('nginx configuration', { skip }, () => {
  it('NOSSL: plain HTTP on 80 and 8448, passes nginx -t', async () => {
    const r = await cook(MINIMAL);
    const site = r.file(SITE);
    assert.match(site, /listen 80 default_server;/);
    assert.match(site, /listen 8448 default_server;/);
    assert.doesNotMatch(site, /listen [^;]*ssl|ssl_certificate/);
    assert.doesNotMatch(site, /return 301/);
    const t = await nginxTest(r);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stderr, /syntax is ok/);
  });

  it('TLS pending: HTTP serves Matrix and ACME challenges, passes nginx -t', async () => {
    const r = await cook({ ...MINIMAL, NOSSL: 'false', SSLEMAIL: 'ssl@example.com' });
    const site = r.file(SITE);
    assert.match(site, /include acme-challenge\.conf;/);
    assert.match(site, /include matrix-proxy\.conf;/);
    assert.doesNotMatch(site, /listen 443/);
    const t = await nginxTest(r);
    assert.equal(t.code, 0, t.stderr);
  });

  it('TLS: 443 and 8448 with the certificate from /mnt, HTTP redirects except ACME and /health, passes nginx -t', async () => {
    const mnt = tempDir();
    testCertificate(mnt, 'example.com');
    const r = await cook({ ...MINIMAL, NOSSL: 'false', SSLEMAIL: 'ssl@example.com' }, { mnt });
    const site = r.file(SITE);
    assert.match(site, /listen 443 ssl default_server;/);
    assert.match(site, /listen 8448 ssl default_server;/);
    assert.match(site, /ssl_certificate_key \/mnt\/certs\/example\.com\/privkey\.pem;/);
    const http = site.slice(0, site.indexOf('listen 443'));
    assert.match(http, /include acme-challenge\.conf;[\s\S]*location = \/health[\s\S]*return 301 https:\/\/example\.com\$request_uri;/);
    const t = await nginxTest(r, mnt);
    assert.equal(t.code, 0, t.stderr);
  });

  it('follows Synapse\'s reverse-proxy guide', async () => {
    const r = await cook(MINIMAL);
    const proxy = proxyBlock(r);
    assert.match(proxy, /location ~ \^\(\/_matrix\|\/_synapse\/client\) \{[^}]*proxy_pass http:\/\/127\.0\.0\.1:8008;/);
    assert.match(proxy, /proxy_set_header X-Forwarded-For /);
    assert.match(proxy, /proxy_set_header X-Forwarded-Proto /);
    assert.match(proxy, /proxy_set_header Host \$host;/);
    const limit = /client_max_body_size (\d+)M;/.exec(proxy);
    assert.ok(limit);
    assert.ok(Number(limit[1]) >= Number(String(r.homeserver().max_upload_size).replace('M', '')));
    assert.match(proxy, /location = \/health \{\s*proxy_pass http:\/\/127\.0\.0\.1:8008;/);
    assert.match(proxy, /location \/\.well-known\/matrix\/ \{[^}]*default_type application\/json;[^}]*add_header Access-Control-Allow-Origin "\*" always;/);
  });

  it('well-known files are the delegation JSON', async () => {
    const r = await cook({ ...MINIMAL, DOMAIN: 'chat.example.net' });
    const base = 'usr/local/www/matrix-well-known/.well-known/matrix';
    assert.deepEqual(JSON.parse(r.file(`${base}/server`)), { 'm.server': 'chat.example.net:443' });
    assert.deepEqual(JSON.parse(r.file(`${base}/client`)), { 'm.homeserver': { base_url: 'https://chat.example.net' } });
  });

  it('serves the rendered config for real (NOSSL): well-known JSON with CORS, /health and Matrix through to Synapse', async () => {
    const r = await cook(MINIMAL);
    const got = await probe(r, 'http');
    const server = got.get('well-known-server')!;
    assert.equal(server.status, 200);
    assert.match(server.headers, /^content-type: application\/json/im);
    assert.match(server.headers, /^access-control-allow-origin: \*/im);
    assert.deepEqual(JSON.parse(server.body), { 'm.server': 'example.com:443' });
    assert.deepEqual(JSON.parse(got.get('well-known-client')!.body), { 'm.homeserver': { base_url: 'https://example.com' } });
    assert.equal(got.get('health')!.body, 'OK');
    const seen = JSON.parse(got.get('matrix')!.body);
    assert.equal(seen.path, '/_matrix/client/versions');
    assert.equal(seen.headers['x-forwarded-proto'], 'https', 'the TLS proxy in front is believed');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers.host, 'example.com');
    assert.equal(JSON.parse(got.get('synapse-client')!.body).path, '/_synapse/client/new_user_consent');
    assert.equal(JSON.parse(got.get('federation-8448')!.body).path, '/_matrix/federation/v1/version');
    assert.equal(got.get('acme')!.status, 404, 'no ACME webroot without TLS');
  });

  it('serves the rendered config for real (TLS): redirects, ACME and /health on 80; HTTPS on 443 and 8448', async () => {
    const mnt = tempDir();
    testCertificate(mnt, 'example.com');
    const r = await cook({ ...MINIMAL, NOSSL: 'false', SSLEMAIL: 'ssl@example.com' }, { mnt });
    const got = await probe(r, 'tls', mnt);
    const redirect = got.get('redirect')!;
    assert.equal(redirect.status, 301);
    assert.match(redirect.headers, /^location: https:\/\/example\.com\/_matrix\/client\/versions/im);
    assert.equal(got.get('health')!.body, 'OK');
    assert.equal(got.get('acme')!.body, 'token-content');
    const wk = got.get('https-well-known')!;
    assert.match(wk.headers, /^access-control-allow-origin: \*/im);
    assert.deepEqual(JSON.parse(wk.body), { 'm.homeserver': { base_url: 'https://example.com' } });
    const seen = JSON.parse(got.get('https-matrix')!.body);
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(JSON.parse(got.get('https-federation-8448')!.body).path, '/_matrix/key/v2/server');
  });
});
