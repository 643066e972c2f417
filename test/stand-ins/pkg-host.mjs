// Stand-in for FreeBSD pkg(8) on the build host, for tests only. It follows
// pkg's documented contract for the two things the pipeline asks of it:
//   pkg [-c ROOT | -j JAIL] query FORMAT          (%n %o %v, pkg's \t \n escapes)
//   pkg [-c ROOT | -j JAIL] audit [-F] [-q] [-r] [-f FILE] [-R[FMT] | --raw[=FMT]] [NAME-VERSION ...]
// Environment:
//   PKG_STANDIN_LOG         file: one JSON line per call (argv), appended
//   PKG_STANDIN_PACKAGES    file: name<TAB>origin<TAB>version per line (else ROOT/var/db/pkg/stand-in.tsv, else a fixed list)
//   PKG_STANDIN_VULNS       file: JSON [{package, vid, cves, description, below?}] ("below": only versions lower than it)
//   PKG_STANDIN_FETCH_FAIL  "1": `audit -F` cannot fetch the database (exit 1)
//   PKG_STANDIN_OLD         "1": a pkg older than 1.16, whose audit has no -R/--raw
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';

const argv = process.argv.slice(2);
if (process.env.PKG_STANDIN_LOG) appendFileSync(process.env.PKG_STANDIN_LOG, `${JSON.stringify(['pkg', ...argv])}\n`);

const die = (msg, code = 1) => { process.stderr.write(`pkg: ${msg}\n`); process.exit(code); };

const FIXED = [
  ['py311-matrix-synapse', 'net-im/py-matrix-synapse', '1.98.0'],
  ['py311-matrix-synapse-ldap3', 'net/py-matrix-synapse-ldap3', '0.3.0'],
  ['nginx', 'www/nginx', '1.24.0_12,3'],
  ['acme.sh', 'security/acme.sh', '3.0.7'],
  ['python311', 'lang/python311', '3.11.8'],
  ['sqlite3', 'databases/sqlite3', '3.45.1,1'],
  ['pkg', 'ports-mgmt/pkg', '1.20.9'],
];

// Global options before the sub-command (pkg's main getopt).
let root;
let jail;
let i = 0;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (a === '-c' || a === '--chroot') root = argv[++i];
  else if (a === '-j' || a === '--jail') jail = argv[++i];
  else if (a.startsWith('-')) die(`illegal option -- ${a.replace(/^-+/, '')}`, 64);
  else break;
}
const [command, ...rest] = argv.slice(i);
if (root !== undefined && (!existsSync(root) || !statSync(root).isDirectory())) die(`chroot failed: ${root}: No such file or directory`);
if (jail !== undefined && jail === '') die('jail name missing', 64);

function packages() {
  const file = process.env.PKG_STANDIN_PACKAGES ?? (root && existsSync(`${root}/var/db/pkg/stand-in.tsv`) ? `${root}/var/db/pkg/stand-in.tsv` : undefined);
  if (!file) return FIXED;
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => l.split('\t'));
}

// pkg's version order, enough for the stand-in: numeric parts compared as numbers.
function older(a, b) {
  const pa = a.split(/[._,-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  const pb = b.split(/[._,-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  for (let k = 0; k < Math.max(pa.length, pb.length); k++) {
    const x = pa[k] ?? 0;
    const y = pb[k] ?? 0;
    if (x === y) continue;
    return typeof x === 'number' && typeof y === 'number' ? x < y : String(x) < String(y);
  }
  return false;
}

if (command === 'query') {
  const [format, ...more] = rest;
  if (!format || more.length > 0) die('usage: pkg query <query-format> <pkg-name>', 64);
  const esc = format.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  let out = '';
  for (const [n, o, v] of packages()) out += `${esc.replace(/%n/g, n).replace(/%o/g, o).replace(/%v/g, v)}\n`;
  process.stdout.write(out);
  process.exit(0);
}

if (command === 'audit') {
  let fetch = false;
  let quiet = false;
  let raw;
  const names = [];
  for (let k = 0; k < rest.length; k++) {
    const a = rest[k];
    if (a === '-F' || a === '--fetch') fetch = true;
    else if (a === '-q' || a === '--quiet') quiet = true;
    else if (a === '-r' || a === '--recursive') continue;
    else if (a === '-f' || a === '--file') k++;
    else if (process.env.PKG_STANDIN_OLD === '1' && (a.startsWith('--raw') || a.startsWith('-R'))) {
      // getopt_long's complaint, then usage_audit() and EXIT_FAILURE
      die(`unrecognized option \`${a}'\nUsage: pkg audit [-Fqr] [-f file] <pattern>`, 1);
    }
    else if (a === '--raw' || a === '-R') raw = 'ucl';
    else if (a.startsWith('--raw=')) raw = a.slice(6);
    else if (a.startsWith('-R')) raw = a.slice(2);
    else if (a.startsWith('-')) die(`illegal option -- ${a.replace(/^-+/, '')}\nUsage: pkg audit [-RFqr] [--raw[=format]|-R[format] [-f file] <pattern>`, 1);
    else names.push(a);
  }
  if (raw !== undefined && !['ucl', 'json', 'json-compact', 'yaml'].includes(raw)) die(`invalid argument ${raw} for --raw option`);
  if (fetch && process.env.PKG_STANDIN_FETCH_FAIL === '1') die('cannot fetch vulnxml file: Network is unreachable');
  const checked = names.length > 0
    ? names.map((nv) => { const at = nv.lastIndexOf('-'); return at > 0 ? [nv.slice(0, at), nv.slice(at + 1)] : [nv, undefined]; })
    : packages().map(([n, , v]) => [n, v]);
  const vulns = process.env.PKG_STANDIN_VULNS ? JSON.parse(readFileSync(process.env.PKG_STANDIN_VULNS, 'utf8')) : [];
  const hits = new Map();
  for (const [name, version] of checked) {
    const issues = vulns.filter((v) => v.package === name && (!v.below || !version || older(version, v.below)));
    if (issues.length > 0) hits.set(name, { version, issues });
  }
  if (raw === 'json' || raw === 'json-compact') {
    const doc = { pkg_count: hits.size };
    if (hits.size > 0) {
      doc.packages = Object.fromEntries([...hits].map(([name, h]) => [name, {
        version: h.version,
        issue_count: h.issues.length,
        issues: h.issues.map((v) => ({
          'Affected versions': [v.below ? `< ${v.below}` : '>= 0'],
          description: v.description ?? '',
          cve: v.cves ?? [],
          url: `https://vuxml.FreeBSD.org/freebsd/${v.vid}.html`,
        })),
        'reverse dependencies': [],
      }]));
    }
    process.stdout.write(`${JSON.stringify(doc, null, raw === 'json' ? 4 : 0)}\n`);
  } else {
    for (const [name, h] of hits) {
      if (quiet) { process.stdout.write(`${name}-${h.version}\n`); continue; }
      process.stdout.write(`${name}-${h.version} is vulnerable:\n`);
      for (const v of h.issues) {
        process.stdout.write(`  ${v.description ?? ''}\n`);
        for (const c of v.cves ?? []) process.stdout.write(`  CVE: ${c}\n`);
        process.stdout.write(`  WWW: https://vuxml.FreeBSD.org/freebsd/${v.vid}.html\n\n`);
      }
    }
    if (!quiet) process.stdout.write(`${[...hits.values()].reduce((n, h) => n + h.issues.length, 0)} problem(s) in ${hits.size} package(s) found.\n`);
  }
  process.exit(hits.size > 0 ? 1 : 0);
}

die(`stand-in does not play 'pkg ${command ?? ''}' (only query and audit)`, 70);
