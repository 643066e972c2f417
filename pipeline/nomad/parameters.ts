// The image's parameters: what cook reads from its environment (or its flags).
// Kept in step with docs/image.md and the cook script; test/nomad checks both when present.

export type Requirement = 'always' | 'unless-nossl' | 'optional';

export interface ImageParameter {
  name: string;
  /** cook's flag for the same value. */
  flag: string;
  requirement: Requirement;
  /** Secrets come from Nomad Variables in the shipped job, never from the job file. */
  secret: boolean;
  /** Value cook uses when unset (undefined: none / feature off). */
  defaultValue?: string;
  /** Value the example job shows. */
  example?: string;
  kind?: 'boolean' | 'port' | 'email' | 'host';
}

export const IMAGE_PARAMETERS: readonly ImageParameter[] = [
  { name: 'IP', flag: '-i', requirement: 'optional', secret: false, kind: 'host' },
  { name: 'DOMAIN', flag: '-d', requirement: 'always', secret: false, example: 'example.com', kind: 'host' },
  { name: 'ALERTEMAIL', flag: '-a', requirement: 'always', secret: false, example: 'admin@example.com', kind: 'email' },
  { name: 'ENABLEREGISTRATION', flag: '-e', requirement: 'optional', secret: false, defaultValue: 'false', example: 'false', kind: 'boolean' },
  { name: 'MYSHAREDSECRET', flag: '-s', requirement: 'always', secret: true },
  { name: 'SMTPHOST', flag: '-h', requirement: 'optional', secret: false, example: 'smtp.example.com', kind: 'host' },
  { name: 'SMTPPORT', flag: '-p', requirement: 'optional', secret: false, defaultValue: '25', example: '587', kind: 'port' },
  { name: 'SMTPUSER', flag: '-u', requirement: 'optional', secret: false, example: 'matrix@example.com' },
  { name: 'SMTPPASS', flag: '-c', requirement: 'optional', secret: true },
  { name: 'SMTPFROM', flag: '-f', requirement: 'optional', secret: false, example: 'matrix@example.com', kind: 'email' },
  { name: 'LDAPSERVER', flag: '-l', requirement: 'optional', secret: false, kind: 'host' },
  { name: 'LDAPPASSWORD', flag: '-b', requirement: 'optional', secret: true },
  { name: 'LDAPDOMAIN', flag: '-t', requirement: 'optional', secret: false },
  { name: 'NOSSL', flag: '-n', requirement: 'optional', secret: false, defaultValue: 'false', example: 'false', kind: 'boolean' },
  { name: 'CONTROLUSER', flag: '-x', requirement: 'optional', secret: false, defaultValue: 'false', example: 'true', kind: 'boolean' },
  { name: 'SSLEMAIL', flag: '-y', requirement: 'unless-nossl', secret: false, example: 'admin@example.com', kind: 'email' },
];

export const PARAMETER_NAMES: readonly string[] = IMAGE_PARAMETERS.map((p) => p.name);
export const SECRET_PARAMETERS: readonly string[] = IMAGE_PARAMETERS.filter((p) => p.secret).map((p) => p.name);

export function parameterByName(name: string): ImageParameter | undefined {
  return IMAGE_PARAMETERS.find((p) => p.name === name);
}

export function parameterByFlag(flag: string): ImageParameter | undefined {
  return IMAGE_PARAMETERS.find((p) => p.flag === flag);
}

/** The parameters that must be set, given the values known (NOSSL=true drops SSLEMAIL). */
export function requiredParameters(values: Readonly<Record<string, string | undefined>>): string[] {
  const noSsl = values.NOSSL?.toLowerCase() === 'true';
  return IMAGE_PARAMETERS.filter((p) => p.requirement === 'always' || (p.requirement === 'unless-nossl' && !noSsl)).map((p) => p.name);
}

/** Which secrets the job needs given its plain values: the SMTP password with SMTP auth, the LDAP one with LDAP. */
export function neededSecrets(values: Readonly<Record<string, string | undefined>>): string[] {
  const needed = ['MYSHAREDSECRET'];
  if (values.SMTPUSER) needed.push('SMTPPASS');
  if (values.LDAPSERVER) needed.push('LDAPPASSWORD');
  return needed;
}
