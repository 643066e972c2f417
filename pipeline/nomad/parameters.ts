// The image's parameters: what cook reads from its environment (or its flags).
// Kept in step with docs/image.md and the cook script; test/nomad checks both when present.

export type Requirement = 'always' | 'unless-nossl' | 'optional';

export interface ImageParameter {
  name: string;
  /** cook's flag for the same value (none: the parameter file only). */
  flag?: string;
  requirement: Requirement;
  /** Secrets come from Nomad Variables in the shipped job, never from the job file. */
  secret: boolean;
  /** Only cook's parameter file (the Nomad Variable) may carry it, even with --plain-env: cook refuses it from env. */
  fileOnly?: boolean;
  /** Value cook uses when unset (undefined: none / feature off). */
  defaultValue?: string;
  /** Value the example job shows. */
  example?: string;
  kind?: 'boolean' | 'port' | 'email' | 'host' | 'domain' | 'ip' | 'sslmode';
  /** Shortest value cook accepts. */
  minLength?: number;
}

export const IMAGE_PARAMETERS: readonly ImageParameter[] = [
  { name: 'IP', flag: '-i', requirement: 'optional', secret: false, kind: 'ip' },
  { name: 'DOMAIN', flag: '-d', requirement: 'always', secret: false, example: 'example.com', kind: 'domain' },
  { name: 'ALERTEMAIL', flag: '-a', requirement: 'always', secret: false, example: 'admin@example.com', kind: 'email' },
  { name: 'ENABLEREGISTRATION', flag: '-e', requirement: 'optional', secret: false, defaultValue: 'false', example: 'false', kind: 'boolean' },
  { name: 'MYSHAREDSECRET', flag: '-s', requirement: 'always', secret: true, minLength: 16 },
  { name: 'SMTPHOST', flag: '-h', requirement: 'optional', secret: false, example: 'smtp.example.com', kind: 'host' },
  { name: 'SMTPPORT', flag: '-p', requirement: 'optional', secret: false, defaultValue: '25', example: '587', kind: 'port' },
  { name: 'SMTPUSER', flag: '-u', requirement: 'optional', secret: false, example: 'matrix@example.com' },
  { name: 'SMTPPASS', flag: '-c', requirement: 'optional', secret: true },
  { name: 'SMTPFROM', flag: '-f', requirement: 'optional', secret: false, example: 'matrix@example.com', kind: 'email' },
  { name: 'LDAPSERVER', flag: '-l', requirement: 'optional', secret: false, kind: 'host' },
  { name: 'LDAPPASSWORD', flag: '-b', requirement: 'optional', secret: true },
  { name: 'LDAPDOMAIN', flag: '-t', requirement: 'optional', secret: false, kind: 'domain' },
  { name: 'NOSSL', flag: '-n', requirement: 'optional', secret: false, defaultValue: 'false', example: 'false', kind: 'boolean' },
  { name: 'CONTROLUSER', flag: '-x', requirement: 'optional', secret: false, defaultValue: 'false', example: 'true', kind: 'boolean' },
  { name: 'SSLEMAIL', flag: '-y', requirement: 'unless-nossl', secret: false, example: 'admin@example.com', kind: 'email' },
  { name: 'DBHOST', flag: '-H', requirement: 'optional', secret: false, kind: 'host' },
  { name: 'DBPORT', flag: '-P', requirement: 'optional', secret: false, defaultValue: '5432', kind: 'port' },
  { name: 'DBNAME', flag: '-N', requirement: 'optional', secret: false, defaultValue: 'synapse' },
  { name: 'DBUSER', flag: '-U', requirement: 'optional', secret: false, defaultValue: 'synapse' },
  { name: 'DBPASSWORD', requirement: 'optional', secret: true, fileOnly: true },
  { name: 'DBSSLMODE', flag: '-S', requirement: 'optional', secret: false, kind: 'sslmode' },
];

export const PARAMETER_NAMES: readonly string[] = IMAGE_PARAMETERS.map((p) => p.name);
export const SECRET_PARAMETERS: readonly string[] = IMAGE_PARAMETERS.filter((p) => p.secret).map((p) => p.name);
/** Secrets cook takes only from its parameter file, never from env or flags. */
export const FILE_ONLY_PARAMETERS: readonly string[] = IMAGE_PARAMETERS.filter((p) => p.fileOnly).map((p) => p.name);

export function parameterByName(name: string): ImageParameter | undefined {
  return IMAGE_PARAMETERS.find((p) => p.name === name);
}

export function parameterByFlag(flag: string): ImageParameter | undefined {
  return IMAGE_PARAMETERS.find((p) => p.flag === flag);
}

/** cook's reading of a boolean: true/yes/1 (any case) are true. */
export function isTrue(value: string | undefined): boolean {
  return ['true', 'yes', '1'].includes((value ?? '').toLowerCase());
}

/**
 * The parameters that must be set, given the values known; cook's rules: NOSSL=true drops
 * SSLEMAIL; a mail server needs SMTPFROM, an SMTP user its password; LDAP needs its password and domain;
 * PostgreSQL (DBHOST) needs its password.
 */
export function requiredParameters(values: Readonly<Record<string, string | undefined>>): string[] {
  const required = IMAGE_PARAMETERS.filter((p) => p.requirement === 'always' || (p.requirement === 'unless-nossl' && !isTrue(values.NOSSL))).map((p) => p.name);
  if (values.SMTPHOST) required.push('SMTPFROM');
  if (values.SMTPUSER) required.push('SMTPPASS');
  if (values.LDAPSERVER) required.push('LDAPPASSWORD', 'LDAPDOMAIN');
  if (values.DBHOST) required.push('DBPASSWORD');
  return required;
}

/** The secrets the job needs given its plain values. */
export function neededSecrets(values: Readonly<Record<string, string | undefined>>): string[] {
  return requiredParameters(values).filter((name) => SECRET_PARAMETERS.includes(name));
}
