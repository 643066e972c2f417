// sign: after export and check, sign <pot>_<tag>.xz.skein into .xz.skein.sig
// with the configured signify key (in-process: the secret key is never handed
// to `pot export -S`), then re-check the output folder the way a client will.
// No key: a loud warning (or a failure with --require-signature).
import { dirname } from 'node:path';
import { PASSPHRASE_ENV } from '../artifacts/passphrase.js';
import {
  decryptSecretKey, publicKeyOf, readPublicKeyFile, readSecretKeyFile, signatureComment, signBytes, writeFileAtomic,
  type PublicKey, type SecretKey,
} from '../artifacts/signify.js';
import { verifyImage } from '../artifacts/verify.js';
import { UserError } from '../errors.js';
import { shellQuote } from '../runner/shell-quote.js';
import { removeWritten, type BuildContext, type BuildStep } from './context.js';

export const UNSIGNED_WARNING = 'the image is UNSIGNED (no sign.key in the image definition and no --secret-key): '
  + 'Nomad clients with POT_DEFAULT_SIGNATURE_PUBKEY set will refuse to import it; '
  + 'make a key with `pot-image keygen --public-key K.pub --secret-key K.sec` and pass --secret-key K.sec';

const NO_KEY_BUT_REQUIRED = 'no signing key and --require-signature was given: set sign.key in the image definition or pass --secret-key K.sec';

/** Decrypt the build's signing key; a protected key takes its passphrase from the environment only (the build is not interactive). */
async function loadSigningKey(path: string): Promise<{ secret: SecretKey; comment: string }> {
  const enc = await readSecretKeyFile(path);
  let passphrase: string | null = null;
  if (enc.rounds > 0) {
    passphrase = process.env[PASSPHRASE_ENV] ?? null;
    if (!passphrase) throw new UserError(`the signing key ${path} is passphrase-protected: set ${PASSPHRASE_ENV} for the build`);
  }
  return { secret: decryptSecretKey(enc, passphrase, path), comment: enc.comment };
}

/** The configured public key, which must be the secret key's other half; else the one derived from it. */
async function checkingKey(ctx: BuildContext, secret: SecretKey): Promise<{ key: PublicKey; name: string }> {
  const file = ctx.definition.sign.publicKey;
  const derived = publicKeyOf(secret, 'derived');
  if (!file) return { key: derived, name: `the public half of ${ctx.definition.sign.key}` };
  const key = await readPublicKeyFile(file);
  if (!Buffer.from(key.key).equals(derived.key)) {
    throw new UserError(`the public key ${file} (key ${Buffer.from(key.keynum).toString('hex')}) does not belong to the signing key `
      + `${ctx.definition.sign.key} (key ${Buffer.from(secret.keynum).toString('hex')}); fix sign.public_key or --public-key`);
  }
  return { key, name: file };
}

/**
 * For preflight: fail before the long build if signing is bound to fail at its end
 * (no key with --require-signature, unreadable or corrupt key, missing or wrong
 * passphrase, a public key that is not the pair).
 */
export async function checkSigningSetup(ctx: BuildContext): Promise<void> {
  const keyFile = ctx.definition.sign.key;
  if (!keyFile) {
    if (ctx.options.requireSignature) {
      throw new UserError(NO_KEY_BUT_REQUIRED);
    }
    return;
  }
  const { secret } = await loadSigningKey(keyFile);
  await checkingKey(ctx, secret);
}

function verifyCommand(ctx: BuildContext): string {
  const d = ctx.definition;
  const key = d.sign.publicKey ? ` --public-key ${shellQuote(d.sign.publicKey)}` : '';
  const derived = d.sign.key && !d.sign.publicKey ? `   # signature checked with the public half of ${d.sign.key}` : '';
  return `pot-image verify --public-url ${shellQuote(dirname(ctx.artifacts.xz))} --pot ${shellQuote(d.potName)} --tag ${shellQuote(d.tag)}${key}${derived}`;
}

/** Sign the .xz.skein on this machine: the secret key and its passphrase never reach the builder. */
async function sign(ctx: BuildContext, keyFile: string): Promise<string> {
  const { secret, comment } = await loadSigningKey(keyFile);
  await checkingKey(ctx, secret);
  const skein = await ctx.home.readFile(ctx.artifacts.skein);
  if (!skein) throw new UserError(`${ctx.artifacts.skein} is gone; build again`);
  await writeFileAtomic(ctx.artifacts.sig, signBytes(secret, skein, signatureComment(keyFile, comment)));
  return Buffer.from(secret.keynum).toString('hex');
}

/** Check the output folder exactly as a client checks the published copy. */
async function verifyOutput(ctx: BuildContext): Promise<string> {
  const d = ctx.definition;
  let checking: { key: PublicKey; name: string } | undefined;
  if (d.sign.key) {
    const { secret } = await loadSigningKey(d.sign.key);
    checking = await checkingKey(ctx, secret);
  }
  const result = await verifyImage({
    baseUrl: dirname(ctx.artifacts.xz),
    pot: d.potName,
    tag: d.tag,
    ...(checking ? { publicKey: checking.key, publicKeyName: checking.name } : {}),
  });
  if (!result.ok) throw new UserError(`the output folder does not pass verify: ${result.failure!.message}`);
  ctx.summary.signature = checking
    ? { signed: true, file: ctx.artifacts.sig, keynum: Buffer.from(checking.key.keynum).toString('hex'), verifiedWith: checking.name }
    : { signed: false };
  return checking ? `signed and verified (key ${Buffer.from(checking.key.keynum).toString('hex')})` : 'digest verified; UNSIGNED';
}

/** Why the sign step does not run: no key (a loud warning; preflight already refused it under --require-signature). */
function noKey(ctx: BuildContext): string | false {
  if (ctx.definition.sign.key) return false;
  ctx.warnings.push(UNSIGNED_WARNING);
  return 'no signing key, the image stays UNSIGNED';
}

export function signTasks(): BuildStep[] {
  return [
    {
      title: 'sign: sign the .xz.skein on this machine',
      skip: (ctx) => noKey(ctx),
      task: async (ctx, task) => {
        const keyFile = ctx.definition.sign.key!;
        const keynum = await ctx.home.inProcess(`pot-image sign --secret-key ${shellQuote(keyFile)} ${shellQuote(ctx.artifacts.skein)}`, () => sign(ctx, keyFile));
        ctx.written.push(ctx.artifacts.sig);
        if (keynum) task.output = `signed with key ${keynum}`;
      },
      cleanup: async (ctx, { home, failed }) => (failed && (await removeWritten(ctx, home, [ctx.artifacts.sig])) ? 'removed the signature' : undefined),
    },
    {
      title: 'verify: check the output folder the way a client imports it',
      task: async (ctx, task) => {
        const outcome = await ctx.home.inProcess(verifyCommand(ctx), () => verifyOutput(ctx));
        if (outcome) task.output = outcome;
      },
    },
  ];
}
