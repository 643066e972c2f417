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
