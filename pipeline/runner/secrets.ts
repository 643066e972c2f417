// Secrets the runner must blank out of logs and messages: values of
// environment variables whose names say they hold one (publish credentials,
// key passphrases), plus whatever a step passes explicitly.
const SECRET_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|CREDENTIAL|API_KEY|AUTH)/i;

export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    // Very short values would blank out unrelated text; they are not real secrets anyway.
    if (value && value.length >= 4 && SECRET_NAME.test(name)) out.push(value);
  }
  return out;
}

/** Variables a program that talks to another machine needs and that only look secret. */
const NOT_SECRET = new Set(['SSH_AUTH_SOCK']);

/**
 * Names of the environment variables that hold secrets (by their name, as above, whatever
 * their length): what the ssh to a builder is started without, so no SendEnv in an ssh_config
 * can offer the signing key's passphrase or a repository password to the builder.
 */
export function secretEnvNames(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.keys(env).filter((name) => SECRET_NAME.test(name) && !NOT_SECRET.has(name));
}

/** `env` without its secret-named variables. */
export function withoutSecrets(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of secretEnvNames(env)) delete out[name];
  return out;
}
