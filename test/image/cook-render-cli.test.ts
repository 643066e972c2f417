// `npm run cook:render -- --env FILE --out DIR [-- COOK FLAGS…]`: the preview
// operators run, end to end through the real command. FILE is cook's parameter file,
// read by the real cook with its own rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../scripts/cook-render.js';
import { tempDir } from '../helpers/tmp.js';
import { jailUnavailable } from './jail.js';

const skip = jailUnavailable();

function cookRender(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'cook-render.ts'), ...args],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe('npm run cook:render', () => {
  it('is the package script', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.scripts['cook:render'], 'node --import tsx scripts/cook-render.ts');
  });

  it('renders the tree at real paths; values are literal to the end of the line; flags after -- reach cook', { skip }, async () => {
    const dir = tempDir();
    const env = join(dir, 'params.env');
    const secret = `"quoted" 'single' #hash: $HOME \`x\` \\n %d | & ünï  `;
    writeFileSync(env, [
      '# a comment line', 'DOMAIN=example.com', 'ALERTEMAIL=admin@example.com', `MYSHAREDSECRET=${secret}`,
      'NOSSL=true', '', `LDAPPASSWORD=${secret}`, 'LDAPSERVER=ldap.example.com', 'LDAPDOMAIN=example.com', '',
    ].join('\n'));
    const out = join(dir, 'out');
    const r = await cookRender(['--env', env, '--out', out, '--', '-e', 'true']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const hs = parse(readFileSync(join(out, 'usr/local/etc/matrix-synapse/homeserver.yaml'), 'utf8'));
    assert.equal(hs.registration_shared_secret, secret);
    assert.equal(hs.modules[0].config.bind_password, secret);
    assert.equal(hs.enable_registration, true);
    for (const path of ['usr/local/etc/nginx/nginx.conf', 'mnt/synapse/keys/signing.key', 'var/log/cook.log', 'usr/local/bin/cook']) {
      assert.ok(existsSync(join(out, path)), path);
    }
    assert.ok(!r.stdout.includes(secret.trim()) && !r.stderr.includes(secret.trim()));
    assert.match(r.stderr, /cook exited 0; the jail's tree is in /);
  });

  it('exits with cook\'s code for invalid parameters', { skip }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.env'), 'DOMAIN=bad domain\n');
    const r = await cookRender(['--env', join(dir, 'p.env'), '--out', join(dir, 'out')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /DOMAIN \(-d\): 'bad domain' is not a plain host name/);
  });

  it('applies the parameter file\'s real rules: malformed lines, unknown and repeated names, <no value>', { skip }, async () => {
    const dir = tempDir();
    // Each of these passes through a plain environment but fails the job: cook must refuse them here too.
    writeFileSync(join(dir, 'p.env'), [
      'DOMAIN=example.com', 'ALERTEMAIL=admin@example.com', 'NOSSL=true',
      'MYSHAREDSECRET=<no value>', 'ENABLEREGISTRATON=true', 'not a pair', 'DOMAIN=other.example.com', '',
    ].join('\n'));
    const r = await cookRender(['--env', join(dir, 'p.env'), '--out', join(dir, 'out')]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /line 4: MYSHAREDSECRET is missing from the Nomad Variable \(the job's template wrote <no value>\)/);
    assert.doesNotMatch(r.stderr, /too short/);
    assert.match(r.stderr, /line 5: unknown parameter ENABLEREGISTRATON/);
    assert.match(r.stderr, /line 6: expected KEY=VALUE/);
    assert.match(r.stderr, /line 7: DOMAIN is given twice; keep one line/);
    assert.ok(!existsSync(join(dir, 'out', 'usr/local/etc/matrix-synapse/homeserver.yaml')), 'nothing rendered');
  });

  it('CONTROLUSER=true without --authkey names --authkey', { skip }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.env'), 'DOMAIN=example.com\nALERTEMAIL=a@example.com\nNOSSL=true\nMYSHAREDSECRET=0123456789abcdef0\nCONTROLUSER=yes\n');
    const r = await cookRender(['--env', join(dir, 'p.env'), '--out', join(dir, 'out')]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /cook:render: CONTROLUSER=true: give the control user's public key with --authkey FILE/);
    const missing = await cookRender(['--env', join(dir, 'p.env'), '--out', join(dir, 'out2'), '--authkey', join(dir, 'nope.pub')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^cook:render: cannot read --authkey .*nope\.pub/);
  });

  it('refuses a non-empty output folder and missing arguments', { skip }, async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'p.env'), 'DOMAIN=example.com\n');
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'keep'), 'x');
    const busy = await cookRender(['--env', join(dir, 'p.env'), '--out', join(dir, 'out')]);
    assert.equal(busy.code, 2);
    assert.match(busy.stderr, /--out .* is not empty/);
    const missing = await cookRender(['--env', join(dir, 'p.env')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--env FILE and --out DIR are required/);
  });
});
