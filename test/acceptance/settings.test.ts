import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../../pipeline/errors.js';
import { SMOKE_DEFAULTS, loadAcceptanceSettings, parseAcceptance } from '../../pipeline/acceptance/settings.js';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const parse = (yaml: string) => parseAcceptance(parseYaml(yaml));

function rejects(yaml: string, message: RegExp): void {
  assert.throws(() => parse(yaml), (e: unknown) => {
    assert.ok(e instanceof InputError, `InputError expected, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.match(e.message, message);
    return true;
  });
}

describe('acceptance settings in the image definition', () => {
  it('defaults when the section is absent', () => {
    assert.deepEqual(parse('flavour: x\n'), { smoke: SMOKE_DEFAULTS, auditAllow: [] });
  });

  it('reads the allow-list and the smoke-test settings', () => {
    const s = parse(`
acceptance:
  smoke_test: { timeout_seconds: 600, domain: chat.example.org, alert_email: ops@example.org, ip: 10.192.0.50, url: "http://127.0.0.1:8080/" }
  audit_allow:
    - package: nginx
      id: CVE-2026-1111
      reason: mail module only
      expires: 2026-12-31
`);
    assert.deepEqual(s.auditAllow, [{ package: 'nginx', id: 'CVE-2026-1111', reason: 'mail module only', expires: '2026-12-31' }]);
    assert.deepEqual(s.smoke, { timeoutSeconds: 600, domain: 'chat.example.org', alertEmail: 'ops@example.org', ip: '10.192.0.50', url: 'http://127.0.0.1:8080' });
  });

  it('rejects bad allow-list entries with one line naming the field', () => {
    const entry = (extra: string) => `acceptance:\n  audit_allow:\n    - { package: nginx, id: CVE-1, reason: why, ${extra} }\n`;
    rejects(entry('expires: 2026-13-01'), /^acceptance\.audit_allow\[0\]\.expires: '2026-13-01' is not a date; use YYYY-MM-DD/);
    rejects(entry('expires: "2026-02-30"'), /expires: '2026-02-30' is not a date/);
    rejects(entry('expires: next year'), /expires: 'next year' is not a date/);
    rejects('acceptance:\n  audit_allow:\n    - { package: nginx, id: CVE-1, reason: why }\n', /audit_allow\[0\]\.expires: missing/);
    rejects('acceptance:\n  audit_allow:\n    - { package: nginx, id: CVE-1, expires: 2026-01-01 }\n', /audit_allow\[0\]\.reason: missing/);
    rejects(entry('expires: 2026-01-01, until: 2027-01-01'), /audit_allow\[0\]\.until: unknown key; remove it/);
    rejects('acceptance:\n  audit_allow: nginx\n', /audit_allow: expected a list/);
    rejects('acceptance:\n  audit_allow:\n    - { package: "nginx 1.2", id: CVE-1, reason: r, expires: 2026-01-01 }\n', /package: 'nginx 1\.2' is not a package name/);
  });

  it('rejects bad smoke-test settings', () => {
    rejects('acceptance:\n  smoke_test: { timeout_seconds: 5 }\n', /timeout_seconds: '5' is not allowed; use a whole number of seconds from 10 to 3600/);
    rejects('acceptance:\n  smoke_test: { domain: "https://x.org" }\n', /domain: 'https:\/\/x\.org' is not a plain host name/);
    rejects('acceptance:\n  smoke_test: { ip: 10.0.0.300 }\n', /ip: '10\.0\.0\.300' is not an IP address/);
    rejects('acceptance:\n  smoke_test: { url: "ftp://x" }\n', /url: 'ftp:\/\/x' is not an http\(s\) URL/);
    rejects('acceptance:\n  smoke: {}\n', /^acceptance\.smoke: unknown key; did you mean 'smoke_test'\?/);
  });

  it('reads a PostgreSQL for the smoke test and refuses a bad one with the field named', () => {
    const s = parse('acceptance:\n  smoke_test:\n    postgresql: { host: db.example.org, port: 6543, name: synapse_smoke, user: smoke, sslmode: verify-full, password_env: SMOKE_PG }\n');
    assert.deepEqual(s.smoke.postgresql, { host: 'db.example.org', port: 6543, name: 'synapse_smoke', user: 'smoke', sslmode: 'verify-full', passwordEnv: 'SMOKE_PG' });
    assert.deepEqual(parse('acceptance:\n  smoke_test:\n    postgresql: { host: 10.0.0.5 }\n').smoke.postgresql, { host: '10.0.0.5', passwordEnv: 'POT_IMAGE_SMOKE_DBPASSWORD' });
    rejects('acceptance:\n  smoke_test:\n    postgresql: { port: 5432 }\n', /^acceptance\.smoke_test\.postgresql\.host: missing/);
    rejects('acceptance:\n  smoke_test:\n    postgresql: { host: db, sslmode: prefer }\n', /^acceptance\.smoke_test\.postgresql\.sslmode: 'prefer' is not allowed; use disable, require or verify-full/);
    rejects('acceptance:\n  smoke_test:\n    postgresql: { host: db, port: 70000 }\n', /postgresql\.port: '70000' is not a TCP port/);
    rejects('acceptance:\n  smoke_test:\n    postgresql: { host: "db;rm -rf /" }\n', /postgresql\.host: 'db;rm -rf \/' is not a host name/);
    rejects('acceptance:\n  smoke_test:\n    postgresql: { host: db, name: "x y" }\n', /postgresql\.name: 'x y' is not a plain PostgreSQL identifier/);
    rejects('acceptance:\n  smoke_test:\n    postgresql: { host: db, password: hunter2 }\n', /postgresql.*password/);
  });

  it('reads the shipped image definition', () => {
    const s = loadAcceptanceSettings(join(PROJECT_ROOT, 'image', 'image.yaml'));
    assert.ok(s.smoke.timeoutSeconds >= 10);
    for (const a of s.auditAllow) assert.match(a.expires, /^\d{4}-\d{2}-\d{2}$/);
  });

  it('names the file when it is not YAML', () => {
    const f = join(tempDir(), 'image.yaml');
    writeFileSync(f, 'acceptance: [unclosed\n');
    assert.throws(() => loadAcceptanceSettings(f), /image definition '.*image\.yaml' could not be read/);
  });
});
