import type { Command } from '../command.js';
import { printJson, stringArg } from '../command.js';
import { cliPath, requireFile } from '../inputs.js';
import { InputError, UserError } from '../../errors.js';
import { obtainPassphrase } from '../../artifacts/passphrase.js';
import { decryptSecretKey, readMessage, readSecretKeyFile, sameFile, signatureComment, signBytes, writeFileAtomic } from '../../artifacts/signify.js';

const command: Command = {
  name: 'sign',
  summary: 'sign a file (an image .xz.skein) with a signify secret key',
  usage: [
    'usage: pot-image sign --secret-key K.sec [--json] FILE...',
    '',
    'Writes FILE.sig next to each FILE, as `signify -S -s K.sec -m FILE` does; check it with',
    '`signify -V -p K.pub -m FILE` or pot import -C K.pub. A passphrase-protected key takes its',
    'passphrase from POT_IMAGE_KEY_PASSPHRASE or asks on the terminal. Every FILE is read before',
    'any signature is written: a missing FILE leaves no .sig behind (exit 2).',
  ].join('\n'),
  options: { 'secret-key': { type: 'string' } },
  allowPositionals: true,
  json: true,
  cleansUpOnSignal: true,
  async run(args) {
    const secretFile = cliPath(stringArg(args, 'secret-key'));
    if (!secretFile) throw new InputError('sign: give the secret key with --secret-key K.sec');
    if (args.positionals.length === 0) throw new InputError('sign: name the FILE to sign (e.g. the image .xz.skein)');
    await requireFile(secretFile, 'sign: --secret-key');
    const files = args.positionals.map((f) => cliPath(f)!);
    // FILE.sig is replaced: it must not be the secret key itself (however the path is spelled).
    for (const file of files) {
      if (await sameFile(`${file}.sig`, secretFile)) {
        throw new InputError(`sign: the signature ${file}.sig would replace the secret key ${secretFile}; rename the key or the file`);
      }
    }
    for (const file of files) await requireFile(file, 'sign:');
    const enc = await readSecretKeyFile(secretFile);
    const passphrase = enc.rounds > 0 ? await obtainPassphrase({ purpose: `signing with ${secretFile}` }) : null;
    if (args.verbose && enc.rounds > 0) console.error(`sign: decrypting the secret key (bcrypt_pbkdf, ${enc.rounds} rounds)`);
    const secret = decryptSecretKey(enc, passphrase, secretFile);
    // Read every message before writing any signature: a bad FILE leaves no .sig behind.
    const messages: Array<{ file: string; data: Buffer }> = [];
    for (const file of files) {
      try {
        messages.push({ file, data: await readMessage(file) });
      } catch (error) {
        if (error instanceof UserError) throw new UserError(`sign: ${error.message}`, error.exitCode);
        throw error;
      }
    }
    const comment = signatureComment(secretFile, enc.comment);
    const written: string[] = [];
    for (const { file, data } of messages) {
      // Each .sig is written whole (atomically); after a signal no further one is started.
      if (args.signal.aborted) throw new UserError(`stopped before signing ${file}; ${written.length ? `written: ${written.join(', ')}` : 'no signature was written'}`);
      await writeFileAtomic(`${file}.sig`, signBytes(secret, data, comment));
      written.push(`${file}.sig`);
      if (!args.json) console.log(`wrote ${file}.sig`);
    }
    if (args.json) printJson({ ok: true, keyNumber: Buffer.from(secret.keynum).toString('hex'), signatures: written });
    return 0;
  },
};
export default command;
