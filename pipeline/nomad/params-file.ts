// Reads the --params FILE of `pot-image nomad-job`: KEY=VALUE lines, '#' comments, optional
// quotes around a value. These values go into the job's env {}, so they must survive the
// pot driver's shell; anything else belongs in the Nomad Variable (cook's secrets file).
import { existsSync, readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { PARAMS_FILE_IN_JAIL, VARIABLE_PATH } from './job-spec.js';
import { parameterByName, PARAMETER_NAMES } from './parameters.js';

// nomad-pot-driver passes env {} to the jail as one unquoted `pot set-env -E K=V ...` line run
// by the host's sh, and pot writes `export "K=V"` lines that the jail's sh runs again: whitespace
// splits a value, these characters are expanded (or run commands) on the host and in the jail.
const SHELL_METACHARACTERS = '$ ` \\ " \' ; & | < > ( ) * ? [ ] { } ~ # !';
const UNSAFE_IN_ENV = /[\s$`\\"';&|<>()*?[\]{}~#!]/;

/** True when VALUE would not reach cook intact through env {} (see above). */
export function unsafeInEnv(value: string): boolean {
  return UNSAFE_IN_ENV.test(value);
}

/** What to do instead, for NAME (never the value). */
export function unsafeInEnvAdvice(name: string): string {
  return `${name} contains whitespace or one of ${SHELL_METACHARACTERS}, which the pot driver's set-env would split or expand; ` +
    `put it in the Nomad Variable ${VARIABLE_PATH} instead (a line ${name}={{ .${name} }} in the job's template, which cook reads from ${PARAMS_FILE_IN_JAIL})`;
}
const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DOMAIN = new RegExp(`^(${LABEL}\\.)*${LABEL}$`);
const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6 = /^[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}$/;

export function checkParameterValue(name: string, value: string, where: string): void {
  const p = parameterByName(name);
  // Never echo the value: it may be a secret (--plain-env) or half of one.
  if (UNSAFE_IN_ENV.test(value)) throw new InputError(`${where}: ${unsafeInEnvAdvice(name)}`);
  if (p?.minLength !== undefined && value.length < p.minLength) {
    throw new InputError(`${where}: ${name} is too short (${value.length} characters); cook wants at least ${p.minLength}, e.g. from 'openssl rand -hex 32'`);
  }
  if (!p?.kind || value === '') return;
  const bad = (what: string) => new InputError(`${where}: ${name} is '${value}'; ${what}`);
  switch (p.kind) {
    case 'boolean':
      if (!/^(true|false|yes|no|1|0)$/i.test(value)) throw bad('use true or false');
      break;
    case 'port':
      if (!(/^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535)) throw bad('use a port number from 1 to 65535');
      break;
    case 'email':
      if (!/^[^@\s<>]+@[A-Za-z0-9.-]+$/.test(value)) throw bad('not an email address; use name@domain');
      break;
    case 'domain':
      if (!DOMAIN.test(value)) throw bad('not a plain domain name; give only the name, e.g. example.com (no scheme, port or path)');
      break;
    case 'ip':
      if (!IPV4.test(value) && !IPV6.test(value)) throw bad('not an IPv4 or IPv6 address');
      break;
    case 'host':
      if (!DOMAIN.test(value) && !IPV4.test(value) && !IPV6.test(value)) throw bad('not a host name or IP address');
      break;
    case 'sslmode':
      if (!/^(disable|require|verify-full)$/.test(value)) throw bad('use disable, require or verify-full');
      break;
  }
}

export function parseParams(text: string, fileName: string): Record<string, string> {
  const values: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${fileName}:${index + 1}`;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new InputError(`${where}: expected KEY=VALUE, got '${line.length > 40 ? `${line.slice(0, 40)}…` : line}'`);
    const [, key, rawValue] = m as unknown as [string, string, string];
    if (!PARAMETER_NAMES.includes(key)) {
      throw new InputError(`${where}: unknown parameter '${key}'; the image takes ${PARAMETER_NAMES.join(', ')}`);
    }
    if (key in values) throw new InputError(`${where}: ${key} is set twice; keep one line`);
    let value = rawValue;
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] ?? '';
    checkParameterValue(key, value, where);
    values[key] = value;
  });
  return values;
}

export function readParamsFile(path: string): Record<string, string> {
  if (!existsSync(path)) throw new InputError(`--params: file '${path}' does not exist; write KEY=VALUE lines (see image/README.md)`);
  return parseParams(readFileSync(path, 'utf8'), path);
}
