// Stand-in for FreeBSD pkg(8) on the build host, for tests only. It follows
// pkg's documented contract for the two things the pipeline asks of it:
//   pkg [-c ROOT | -j JAIL] query FORMAT          (%n %o %v, pkg's \t \n escapes)
//   pkg [-c ROOT | -j JAIL] audit [-F] [-q] [-r] [-f FILE] [-R[FMT] | --raw[=FMT]] [NAME-VERSION ...]
//   pkg [-o KEY=VALUE ...] update [-f] [-q] [-r REPO]       (pkg 1.21 src/update.c: a repository whose
//       catalogue is gone prints "pkg: URL: Not Found", "Unable to update repository R",
//       "Error updating repositories!" and exits 1; ABI=/REPOS_DIR= overrides as given)
//   pkg [-o KEY=VALUE ...] rquery [-U] [-r REPO] -e '%o == ORIGIN' FORMAT   (no match: nothing, exit 1)
//   pkg [-o KEY=VALUE ...] search [-r REPO] -e -S origin -o ORIGIN       (no match: "No packages found", exit 1)
// Environment:
//   PKG_STANDIN_LOG         file: one JSON line per call (argv), appended
//   PKG_STANDIN_PACKAGES    file: name<TAB>origin<TAB>version per line (else ROOT/var/db/pkg/stand-in.tsv, else a fixed list)
//   PKG_STANDIN_VULNS       file: JSON [{package, vid, cves, description, below?}] ("below": only versions lower than it)
//   PKG_STANDIN_FETCH_FAIL  "1": `audit -F` cannot fetch the database (exit 1)
//   PKG_STANDIN_OLD         "1": a pkg older than 1.16, whose audit has no -R/--raw
//   PKG_STANDIN_GONE_ABIS   ABIs (e.g. "FreeBSD:13:amd64") whose package repository no longer exists
//   PKG_STANDIN_REPO_LACKS  origins the repository does not have (space-separated)
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';

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
const opts = {};
let i = 0;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (a === '-o' || a === '--option') {
    const kv = argv[++i] ?? '';
    if (!kv.includes('=')) die(`Malformed option '${kv}'`, 64);
    opts[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  } else if (a === '-c' || a === '--chroot') root = argv[++i];
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

// --- The remote repository: update, rquery, search (what preflight asks before pot create) ---

const abi = opts.ABI ?? 'FreeBSD:14:amd64';
/** Repositories configured in REPOS_DIR (NAME: { url: ... } lines); none configured: the stock FreeBSD. */
function repositories() {
  const dir = opts.REPOS_DIR;
  if (!dir) return ['FreeBSD'];
  const names = [];
  for (const d of dir.split(':')) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).filter((n) => n.endsWith('.conf'))) {
      for (const m of readFileSync(`${d}/${f}`, 'utf8').matchAll(/^\s*"?([A-Za-z0-9_-]+)"?\s*:\s*\{/gm)) names.push(m[1]);
    }
  }
  return names;
}
function repoFlag(args) {
  const k = args.indexOf('-r');
  return k >= 0 ? args[k + 1] : undefined;
}
function requireRepo(args) {
  const repo = repoFlag(args);
  const known = repositories();
  if (repo !== undefined && !known.includes(repo)) die(`No repositories are enabled.\nrepository ${repo} does not exist`, 1);
  return repo ?? known[0];
}
const gone = () => (process.env.PKG_STANDIN_GONE_ABIS ?? '').split(/\s+/).includes(abi);
const catalogue = () => `${opts.PKG_DBDIR ?? '/var/db/pkg'}/repos/stand-in-${abi}.catalogue`;
// The repository also has what the flavour's ORIGINS adds for PostgreSQL (databases/py-psycopg2).
const AVAILABLE = [...FIXED.slice(0, 4), ['py311-psycopg2', 'databases/py-psycopg2', '2.9.10']];

if (command === 'update') {
  const repo = requireRepo(rest);
  if (gone()) {
    process.stderr.write(`pkg: https://pkg.FreeBSD.org/${abi}/quarterly/meta.conf: Not Found\n`);
    process.stderr.write(`repository ${repo} has no meta file, using default settings\n`);
    process.stderr.write(`pkg: https://pkg.FreeBSD.org/${abi}/quarterly/data.pkg: Not Found\n`);
    process.stderr.write(`pkg: https://pkg.FreeBSD.org/${abi}/quarterly/packagesite.pkg: Not Found\n`);
    process.stderr.write(`Unable to update repository ${repo}\nError updating repositories!\n`);
    process.exit(1);
  }
  if (opts.PKG_DBDIR) { mkdirSync(`${opts.PKG_DBDIR}/repos`, { recursive: true }); writeFileSync(catalogue(), abi); }
  if (!rest.includes('-q')) process.stdout.write(`Updating ${repo} repository catalogue...\n${repo} repository is up to date.\nAll repositories are up to date.\n`);
  process.exit(0);
}

function lookup(origin) {
  const lacks = (process.env.PKG_STANDIN_REPO_LACKS ?? '').split(/\s+/);
  return lacks.includes(origin) ? undefined : AVAILABLE.find(([, o]) => o === origin);
}

if (command === 'rquery' || command === 'search') {
  requireRepo(rest);
  // -U: no automatic update; without a catalogue there is nothing to ask.
  if (gone() || (opts.PKG_DBDIR && !existsSync(catalogue()))) die(`Repository ${repoFlag(rest) ?? 'FreeBSD'} missing. 'pkg update' required`, 1);
  if (command === 'rquery') {
    const e = rest[rest.indexOf('-e') + 1] ?? '';
    const m = /^%o\s*==\s*(\S+)$/.exec(e);
    if (!m) die(`stand-in rquery: only -e '%o == ORIGIN' is played, not '${e}'`, 70);
    const format = rest[rest.length - 1];
    const hit = lookup(m[1]);
    if (!hit) process.exit(1);
    const [n, o, v] = hit;
    process.stdout.write(`${format.replace(/\\t/g, '\t').replace(/%n/g, n).replace(/%o/g, o).replace(/%v/g, v)}\n`);
    process.exit(0);
  }
  const origin = rest[rest.length - 1];
  const hit = lookup(origin);
  if (!hit) { process.stdout.write('No packages found\n'); process.exit(1); }
  process.stdout.write(`${hit[0]}-${hit[2]}\t\t${hit[1]}\n`);
  process.exit(0);
}

die(`stand-in does not play 'pkg ${command ?? ''}' (only query, audit, update, rquery, search)`, 70);
