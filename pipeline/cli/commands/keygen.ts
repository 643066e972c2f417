import type { Command } from '../command.js';
import { boolArg, stringArg } from '../command.js';
import { InputError } from '../../errors.js';
import { obtainPassphrase } from '../../artifacts/passphrase.js';
import { generateKeyFiles } from '../../artifacts/signify.js';

const command: Command = {
  name: 'keygen',
  summary: 'create a signify Ed25519 key pair for signing images',
  usage: [
    'usage: pot-image keygen --public K.pub --secret K.sec [--no-passphrase] [--comment TEXT]',
    '',
    'Writes a key pair in OpenBSD signify format (as `signify -G`). The secret key is',
    'encrypted with a passphrase (bcrypt_pbkdf, 42 rounds) taken from POT_IMAGE_KEY_PASSPHRASE',
    'or asked on the terminal; --no-passphrase stores it unencrypted (signify -n).',
    'Existing files are never overwritten. Give K.pub to pot clients (pot import -C K.pub,',
    'POT_DEFAULT_SIGNATURE_PUBKEY) and keep K.sec secret.',
  ].join('\n'),
  options: {
    public: { type: 'string' },
    secret: { type: 'string' },
    'no-passphrase': { type: 'boolean' },
    comment: { type: 'string' },
  },
  async run(args) {
    const publicFile = stringArg(args, 'public');
    const secretFile = stringArg(args, 'secret');
    if (!publicFile || !secretFile) throw new InputError('keygen: give both --public FILE and --secret FILE');
    if (publicFile === secretFile) throw new InputError('keygen: --public and --secret must be different files');
    const comment = stringArg(args, 'comment');
    if (comment !== undefined && comment.includes('\n')) throw new InputError('keygen: --comment must be one line');
    const passphrase = boolArg(args, 'no-passphrase')
      ? null
      : await obtainPassphrase({ purpose: `keygen ${secretFile}`, confirm: true });
    const key = await generateKeyFiles(publicFile, secretFile, { passphrase, ...(comment !== undefined ? { comment } : {}) });
    console.log(`wrote ${secretFile} (secret${passphrase === null ? ', no passphrase' : ', passphrase-protected'}) `
      + `and ${publicFile} (public, key number ${Buffer.from(key.keynum).toString('hex')})`);
    return 0;
  },
};
export default command;
