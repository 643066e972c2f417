import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { auditFailureMessage, auditWarnings, evaluateAudit, parseAuditJson, pkgAuditArgs, runAudit } from '../../pipeline/acceptance/audit.js';
import type { AuditAllowance } from '../../pipeline/acceptance/settings.js';
import { ExecaRunner } from '../../pipeline/runner/execa-runner.js';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const STAND_INS = join(PROJECT_ROOT, 'test', 'stand-ins');
const VID = '5a1d2f3e-0b7c-11ef-9f97-a8a1599412c6';

// pkg's --raw=json shape (src/audit.c: pkg_count, packages.NAME.{version, issue_count, issues[{cve, url, description}]})
const RAW = JSON.stringify({
  pkg_count: 2,
  packages: {
    nginx: { version: '1.24.0_12,3', issue_count: 1, issues: [{ 'Affected versions': ['< 1.26.1'], description: 'nginx -- multiple\n vulnerabilities', cve: ['CVE-2026-1111', 'CVE-2026-1112'], url: `https://vuxml.FreeBSD.org/freebsd/${VID}.html` }], 'reverse dependencies': [] },
    'py311-matrix-synapse': { version: '1.98.0', issue_count: 1, issues: [{ description: 'synapse -- DoS', cve: ['CVE-2026-2222'], url: 'https://vuxml.FreeBSD.org/freebsd/0badf00d-1111-2222-3333-444455556666.html' }], 'reverse dependencies': [] },
  },
});

const allow = (a: Partial<AuditAllowance>): AuditAllowance => ({ package: 'nginx', id: VID, reason: 'only the mail module is affected; we do not build it', expires: '2026-12-31', ...a });

describe('vulnerability audit', () => {
  it('audits exactly the image packages with pkg audit -F --raw=json NAME-VERSION', () => {
    assert.deepEqual(pkgAuditArgs([{ name: 'nginx', origin: 'www/nginx', version: '1.24.0_12,3' }]), ['audit', '-F', '--raw=json', 'nginx-1.24.0_12,3']);
  });

  it("parses pkg's raw JSON into package, version, VuXML id, CVEs and link", () => {
    const v = parseAuditJson(RAW);
    assert.equal(v.length, 2);
    assert.deepEqual(v[0], { package: 'nginx', version: '1.24.0_12,3', id: VID, cves: ['CVE-2026-1111', 'CVE-2026-1112'], url: `https://vuxml.FreeBSD.org/freebsd/${VID}.html`, description: 'nginx -- multiple vulnerabilities' });
    assert.deepEqual(parseAuditJson('{"pkg_count": 0}'), []);
    assert.throws(() => parseAuditJson('nginx-1.24 is vulnerable:'), /did not print JSON.*pkg 1\.16/);
  });

  it('fails on every vulnerable package with ids and links, in one line', () => {
    const report = evaluateAudit(parseAuditJson(RAW), [], '2026-11-26');
    assert.equal(report.status, 'vulnerable');
    const msg = auditFailureMessage(report);
    assert.ok(!msg.includes('\n'));
    assert.match(msg, /2 vulnerable package\(s\)/);
    assert.match(msg, new RegExp(`nginx-1\\.24\\.0_12,3: ${VID} CVE-2026-1111 CVE-2026-1112 <https://vuxml\\.FreeBSD\\.org/freebsd/${VID}\\.html>`));
    assert.match(msg, /py311-matrix-synapse-1\.98\.0: 0badf00d-1111-2222-3333-444455556666 CVE-2026-2222/);
    assert.match(msg, /acceptance\.audit_allow/);
  });

  it('accepts a finding allow-listed by VuXML id or CVE until (and on) its expiry day', () => {
    const vulns = parseAuditJson(RAW);
    const both = [allow({}), allow({ package: 'py311-matrix-synapse', id: 'cve-2026-2222', expires: '2026-11-26' })];
    const report = evaluateAudit(vulns, both, '2026-11-26');
    assert.equal(report.status, 'allowed');
    assert.ok(report.findings.every((f) => f.allowed));
    assert.deepEqual(report.expiredAllowances, []);
    const warnings = auditWarnings(report);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /nginx-1\.24\.0_12,3 is vulnerable .* shipped anyway: allow-listed until 2026-12-31 \(only the mail module/);
  });

  it('does not count expired entries, and reports them', () => {
    const vulns = parseAuditJson(RAW);
    const entries = [allow({ expires: '2026-11-25' }), allow({ package: 'py311-matrix-synapse', id: 'CVE-2026-2222' })];
    const report = evaluateAudit(vulns, entries, '2026-11-26');
    assert.equal(report.status, 'vulnerable');
    assert.deepEqual(report.expiredAllowances.map((a) => a.expires), ['2026-11-25']);
    assert.equal(report.findings.find((f) => f.package === 'nginx')!.allowed, undefined);
    assert.ok(report.findings.find((f) => f.package === 'py311-matrix-synapse')!.allowed);
    const msg = auditFailureMessage(report);
    assert.match(msg, /1 vulnerable package\(s\): nginx-/);
    assert.match(msg, /expired allow-list entries do not count: nginx .* expired 2026-11-25/);
    assert.match(auditWarnings(report)[0]!, /expired on 2026-11-25 and no longer counts/);
  });

  it('needs the package to match, not only the id', () => {
    const report = evaluateAudit(parseAuditJson(RAW), [allow({ package: 'nginx-devel' })], '2026-01-01');
    assert.equal(report.findings.find((f) => f.package === 'nginx')!.allowed, undefined);
    assert.equal(report.unusedAllowances.length, 1);
  });

  it('runs against the pkg stand-in: clean, vulnerable, and a failed database fetch', async () => {
    const dir = tempDir('acc-audit-');
    const log = join(dir, 'pkg.log');
    const vulns = join(dir, 'vulns.json');
    writeFileSync(vulns, JSON.stringify([{ package: 'nginx', vid: VID, cves: ['CVE-2026-1111'], description: 'nginx bug', below: '1.26.1' }]));
    const packages = [
      { name: 'nginx', origin: 'www/nginx', version: '1.24.0_12,3' },
      { name: 'sqlite3', origin: 'databases/sqlite3', version: '3.45.1,1' },
    ];
    const runner = (env: Record<string, string>) => {
      Object.assign(process.env, env);
      return new ExecaRunner({ pathPrefix: [STAND_INS] });
    };
    const saved = { ...process.env };
    try {
      const clean = await runAudit(runner({ PKG_STANDIN_LOG: log }), packages, [], new Date('2026-11-26T12:00:00Z'));
      assert.equal(clean.status, 'clean');
      const bad = await runAudit(runner({ PKG_STANDIN_VULNS: vulns }), packages, [], new Date('2026-11-26T12:00:00Z'));
      assert.equal(bad.status, 'vulnerable');
      assert.deepEqual(bad.findings.map((f) => [f.package, f.version, f.id]), [['nginx', '1.24.0_12,3', VID]]);
      const ok = await runAudit(runner({ PKG_STANDIN_VULNS: vulns }), packages, [allow({})], new Date('2026-11-26T12:00:00Z'));
      assert.equal(ok.status, 'allowed');
      await assert.rejects(runAudit(runner({ PKG_STANDIN_FETCH_FAIL: '1' }), packages, []), /'pkg audit -F' exited 1 \(pkg: cannot fetch vulnxml file: Network is unreachable\)/);
      await assert.rejects(runAudit(runner({}), [], []), /no packages to audit/);
      await assert.rejects(runAudit(runner({ PKG_STANDIN_OLD: '1' }), packages, []), /this builder's pkg does not know 'pkg audit --raw=json' \(added in pkg 1\.16\.0\); run 'pkg upgrade pkg'$/);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
