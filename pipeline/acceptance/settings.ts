// The `acceptance:` section of the image definition, read straight from the
// definition file so the shared definition loader stays untouched. Every bad
// field is a one-line InputError naming the field, the value and what is allowed.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { unknownKeyMessage } from '../definition/keys.js';
import { InputError } from '../errors.js';

/** One accepted vulnerability: the audit does not fail on it until `expires`. */
export interface AuditAllowance {
  /** Package name as pkg reports it (e.g. py311-matrix-synapse), without version. */
  package: string;
  /** VuXML id (the UUID in the vuxml.FreeBSD.org link) or a CVE id. */
  id: string;
  reason: string;
  /** YYYY-MM-DD; the entry counts up to and including this day (UTC). */
  expires: string;
}

export interface SmokeSettings {
  /** Upper bound for the whole smoke test after `pot start`. */
  timeoutSeconds: number;
  /** DOMAIN passed to cook; also the Host header of every request. */
  domain: string;
  /** ALERTEMAIL passed to cook. */
  alertEmail: string;
  /** `pot clone -i`: a fixed address for the clone (public-bridge); empty lets pot pick one. */
  ip?: string;
  /** Talk to the jail's nginx here instead of http://<jail ip>/ (port forwards, tests). */
  url?: string;
  /** Reach the jail's sshd here (HOST:PORT) instead of <jail ip>:22 (port forwards, tests). */
  ssh?: string;
  /** Boot the clone against this PostgreSQL instead of sqlite (the builder has no database server of its own). */
  postgresql?: SmokeDatabase;
}

/** The smoke test's PostgreSQL: cook's DB* parameters; the password comes from the builder's environment. */
export interface SmokeDatabase {
  host: string;
  port?: number;
  name?: string;
  user?: string;
  sslmode?: 'disable' | 'require' | 'verify-full';
  /** The environment variable that holds DBPASSWORD during the build (never the definition file). */
  passwordEnv: string;
}

export const SMOKE_DBPASSWORD_ENV = 'POT_IMAGE_SMOKE_DBPASSWORD';

export interface AcceptanceSettings {
  smoke: SmokeSettings;
  auditAllow: AuditAllowance[];
}

export const SMOKE_DEFAULTS: SmokeSettings = {
  timeoutSeconds: 300,
  domain: 'smoke-test.example.com',
  alertEmail: 'postmaster@example.com',
};

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

type Raw = Record<string, unknown>;

function mapping(value: unknown, field: string): Raw {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`${field}: expected a mapping of fields, got '${JSON.stringify(value)}'`);
  }
  return value as Raw;
}

function onlyKeys(raw: Raw, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw new InputError(unknownKeyMessage(field, key, allowed));
    }
  }
}

function text(value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw new InputError(`${field}: missing; every allow-list entry needs package, id, reason and expires`);
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new InputError(`${field}: '${JSON.stringify(value)}' is not a string`);
  }
  return value.trim();
}

/** A real calendar date in YYYY-MM-DD form (YAML may hand us a Date object for unquoted dates). */
export function parseIsoDate(value: unknown, field: string): string {
  const s = value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString().slice(0, 10) : value;
  const m = typeof s === 'string' ? DATE.exec(s.trim()) : null;
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])) {
      return (s as string).trim();
    }
  }
  throw new InputError(`${field}: '${String(value)}' is not a date; use YYYY-MM-DD (e.g. 2026-12-31)`);
}

export function parseAuditAllow(value: unknown, field = 'acceptance.audit_allow'): AuditAllowance[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new InputError(`${field}: expected a list of {package, id, reason, expires}, got '${JSON.stringify(value)}'`);
  }
  return value.map((item, i) => {
    const f = `${field}[${i}]`;
    const raw = mapping(item, f);
    onlyKeys(raw, ['package', 'id', 'reason', 'expires'], f);
    const pkg = text(raw.package, `${f}.package`, true)!;
    if (/\s/.test(pkg)) throw new InputError(`${f}.package: '${pkg}' is not a package name; use the name pkg reports, without version (e.g. py311-matrix-synapse)`);
    const id = text(raw.id, `${f}.id`, true)!;
    if (/\s/.test(id)) throw new InputError(`${f}.id: '${id}' is not a vulnerability id; use the VuXML id or a CVE id (e.g. CVE-2026-12345)`);
    const reason = text(raw.reason, `${f}.reason`, true)!;
    if (raw.expires === undefined || raw.expires === null || raw.expires === '') {
      throw new InputError(`${f}.expires: missing; every allow-list entry needs an expiry date (YYYY-MM-DD)`);
    }
    const expires = parseIsoDate(raw.expires, `${f}.expires`);
    return { package: pkg, id, reason, expires };
  });
}

export function parseSmoke(value: unknown, field = 'acceptance.smoke_test'): SmokeSettings {
  const raw = mapping(value, field);
  onlyKeys(raw, ['timeout_seconds', 'domain', 'alert_email', 'ip', 'url', 'ssh', 'postgresql'], field);
  const out: SmokeSettings = { ...SMOKE_DEFAULTS };
  if (raw.timeout_seconds !== undefined && raw.timeout_seconds !== null) {
    const n = raw.timeout_seconds;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 10 || n > 3600) {
      throw new InputError(`${field}.timeout_seconds: '${String(n)}' is not allowed; use a whole number of seconds from 10 to 3600`);
    }
    out.timeoutSeconds = n;
  }
  const domain = text(raw.domain, `${field}.domain`, false);
  if (domain !== undefined) {
    if (!HOST.test(domain)) throw new InputError(`${field}.domain: '${domain}' is not a plain host name; use e.g. smoke-test.example.com`);
    out.domain = domain;
  }
  const email = text(raw.alert_email, `${field}.alert_email`, false);
  if (email !== undefined) {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new InputError(`${field}.alert_email: '${email}' is not an email address`);
    out.alertEmail = email;
  }
  const ip = text(raw.ip, `${field}.ip`, false);
  if (ip !== undefined) {
    if (isIP(ip) === 0) throw new InputError(`${field}.ip: '${ip}' is not an IP address; leave it empty to let pot pick one`);
    out.ip = ip;
  }
  const url = text(raw.url, `${field}.url`, false);
  if (url !== undefined) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new InputError(`${field}.url: '${url}' is not an http(s) URL; leave it empty to use http://<jail ip>/`);
    out.url = url.replace(/\/+$/, '');
  }
  const ssh = text(raw.ssh, `${field}.ssh`, false);
  if (ssh !== undefined) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(ssh);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new InputError(`${field}.ssh: '${ssh}' is not HOST:PORT; leave it empty to use <jail ip>:22`);
    out.ssh = ssh;
  }
  if (raw.postgresql !== undefined && raw.postgresql !== null) out.postgresql = parseSmokeDatabase(raw.postgresql, `${field}.postgresql`);
  return out;
}

const DB_WORD = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

export function parseSmokeDatabase(value: unknown, field: string): SmokeDatabase {
  const raw = mapping(value, field);
  onlyKeys(raw, ['host', 'port', 'name', 'user', 'sslmode', 'password_env'], field);
  const host = text(raw.host, `${field}.host`, false);
  if (host === undefined) throw new InputError(`${field}.host: missing; name the PostgreSQL server the smoke test boots against (or remove ${field} to test on sqlite)`);
  if (isIP(host) === 0 && !HOST.test(host) && !/^[A-Za-z0-9-]{1,63}$/.test(host)) throw new InputError(`${field}.host: '${host}' is not a host name or IP address`);
  const out: SmokeDatabase = { host, passwordEnv: SMOKE_DBPASSWORD_ENV };
  if (raw.port !== undefined && raw.port !== null) {
    if (typeof raw.port !== 'number' || !Number.isInteger(raw.port) || raw.port < 1 || raw.port > 65535) throw new InputError(`${field}.port: '${String(raw.port)}' is not a TCP port (1-65535)`);
    out.port = raw.port;
  }
  for (const key of ['name', 'user'] as const) {
    const v = text(raw[key], `${field}.${key}`, false);
    if (v === undefined) continue;
    if (!DB_WORD.test(v)) throw new InputError(`${field}.${key}: '${v}' is not a plain PostgreSQL identifier (letters, digits, _, $, -; at most 63)`);
    out[key] = v;
  }
  const mode = text(raw.sslmode, `${field}.sslmode`, false);
  if (mode !== undefined) {
    if (mode !== 'disable' && mode !== 'require' && mode !== 'verify-full') throw new InputError(`${field}.sslmode: '${mode}' is not allowed; use disable, require or verify-full`);
    out.sslmode = mode;
  }
  const env = text(raw.password_env, `${field}.password_env`, false);
  if (env !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env)) throw new InputError(`${field}.password_env: '${env}' is not an environment variable name`);
    out.passwordEnv = env;
  }
  return out;
}

/** Parse the `acceptance:` section of an already parsed definition document. */
export function parseAcceptance(doc: unknown): AcceptanceSettings {
  const root = mapping(doc, 'image definition');
  const section = mapping(root.acceptance, 'acceptance');
  onlyKeys(section, ['smoke_test', 'audit_allow'], 'acceptance');
  return { smoke: parseSmoke(section.smoke_test), auditAllow: parseAuditAllow(section.audit_allow) };
}

/** Read and validate the `acceptance:` section of the definition file. */
export function loadAcceptanceSettings(definitionFile: string): AcceptanceSettings {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(definitionFile, 'utf8'));
  } catch (error) {
    throw new InputError(`image definition '${definitionFile}' could not be read: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseAcceptance(doc);
}
