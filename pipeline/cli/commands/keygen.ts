import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from '../command.js';
import { boolArg, printJson, stringArg } from '../command.js';
import { cliPath, requireFolder } from '../inputs.js';
import { InputError, UserError } from '../../errors.js';
import { obtainPassphrase } from '../../artifacts/passphrase.js';
import { generateKeyFiles } from '../../artifacts/signify.js';

const command: Command = {
  name: 'keygen',
  summary: 'create a signify Ed25519 key pair for signing images',
  usage: [
    'usage: pot-image keygen --public-key K.pub --secret-key K.sec [--no-passphrase] [--comment TEXT] [--json]',
    '',
    'Writes a key pair in OpenBSD signify format (as `signify -G`). The secret key is',
    'encrypted with a passphrase (bcrypt_pbkdf, 42 rounds) taken from POT_IMAGE_KEY_PASSPHRASE',
    'or asked on the terminal; --no-passphrase stores it unencrypted (signify -n).',
    'Existing files are never overwritten; the folders must exist. Give K.pub to pot clients',
    '(pot import -C K.pub, POT_DEFAULT_SIGNATURE_PUBKEY) and keep K.sec secret.',
  ].join('\n'),
  options: {
    'public-key': { type: 'string' },
    'secret-key': { type: 'string' },
    'no-passphrase': { type: 'boolean' },
    comment: { type: 'string' },
  },
  json: true,
  cleansUpOnSignal: true,
  async run(args) {
    const publicFile = cliPath(stringArg(args, 'public-key'));
    const secretFile = cliPath(stringArg(args, 'secret-key'));
    if (!publicFile || !secretFile) throw new InputError('keygen: give both --public-key FILE and --secret-key FILE');
    const comment = stringArg(args, 'comment');
    if (comment !== undefined && comment.includes('\n')) throw new InputError('keygen: --comment must be one line');
    await requireFolder(dirname(secretFile), 'keygen: the folder of --secret-key');
    await requireFolder(dirname(publicFile), 'keygen: the folder of --public-key');
    const passphrase = boolArg(args, 'no-passphrase')
      ? null
      : await obtainPassphrase({ purpose: `keygen ${secretFile}`, confirm: true });
    if (args.verbose) console.error(`keygen: making the key pair${passphrase === null ? '' : ' (encrypting the secret key: bcrypt_pbkdf, 42 rounds)'}`);
    const key = await generateKeyFiles(publicFile, secretFile, { passphrase, ...(comment !== undefined ? { comment } : {}) });
    if (args.signal.aborted) {
      // Interrupted while the key was made: leave no key behind (these files did not exist before).
      await rm(secretFile, { force: true });
      await rm(publicFile, { force: true });
      throw new UserError('keygen stopped; no key file was left behind');
    }
    const keyNumber = Buffer.from(key.keynum).toString('hex');
    if (args.json) {
      printJson({ ok: true, publicKey: publicFile, secretKey: secretFile, keyNumber, passphrase: passphrase !== null });
    } else {
      console.log(`wrote ${secretFile} (secret${passphrase === null ? ', no passphrase' : ', passphrase-protected'}) `
        + `and ${publicFile} (public, key number ${keyNumber})`);
    }
    return 0;
  },
};
export default command;
