import type { Command } from '../command.js';
import { stringArg } from '../command.js';
import { InputError } from '../../errors.js';
import { obtainPassphrase } from '../../artifacts/passphrase.js';
import { decryptSecretKey, readMessage, readSecretKeyFile, sameFile, signatureComment, signBytes, writeFileAtomic } from '../../artifacts/signify.js';
import { UserError } from '../../errors.js';

const command: Command = {
  name: 'sign',
  summary: 'sign a file (an image .xz.skein) with a signify secret key',
  usage: [
    'usage: pot-image sign --secret K.sec FILE...',
    '',
    'Writes FILE.sig next to each FILE, as `signify -S -s K.sec -m FILE` does; check it with',
    '`signify -V -p K.pub -m FILE` or pot import -C K.pub. A passphrase-protected key takes its',
    'passphrase from POT_IMAGE_KEY_PASSPHRASE or asks on the terminal.',
  ].join('\n'),
  options: { secret: { type: 'string' } },
  allowPositionals: true,
  async run(args) {
    const secretFile = stringArg(args, 'secret');
    if (!secretFile) throw new InputError('sign: give the secret key with --secret K.sec');
    if (args.positionals.length === 0) throw new InputError('sign: name the FILE to sign (e.g. the image .xz.skein)');
    const enc = await readSecretKeyFile(secretFile);
    const passphrase = enc.rounds > 0 ? await obtainPassphrase({ purpose: `signing with ${secretFile}` }) : null;
    const secret = decryptSecretKey(enc, passphrase, secretFile);
    // Read every message before writing any signature: a bad FILE leaves no .sig behind.
    const messages: Array<{ file: string; data: Buffer }> = [];
    for (const file of args.positionals) {
      // FILE.sig is replaced: it must not be the secret key itself (however the path is spelled).
      if (await sameFile(`${file}.sig`, secretFile)) {
        throw new InputError(`sign: the signature ${file}.sig would replace the secret key ${secretFile}; rename the key or the file`);
      }
      try {
        messages.push({ file, data: await readMessage(file) });
      } catch (error) {
        if (error instanceof UserError) throw new UserError(`sign: ${error.message}`, error.exitCode);
        throw error;
      }
    }
    const comment = signatureComment(secretFile, enc.comment);
    for (const { file, data } of messages) {
      await writeFileAtomic(`${file}.sig`, signBytes(secret, data, comment));
      console.log(`wrote ${file}.sig`);
    }
    return 0;
  },
};
export default command;
