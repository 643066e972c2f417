// Where a key passphrase comes from: POT_IMAGE_KEY_PASSPHRASE, or a prompt on
// the terminal with echo off. Never the command line (it would sit in shell
// history and in `ps`), and never printed anywhere.
import { UserError } from '../errors.js';

export const PASSPHRASE_ENV = 'POT_IMAGE_KEY_PASSPHRASE';

export interface PassphraseRequest {
  /** Shown in errors: what the passphrase is for ("K.sec"). */
  purpose: string;
  /** Ask twice on a terminal (new keys). */
  confirm?: boolean;
}

/** The passphrase from the environment or a TTY prompt; throws a UserError when neither is available. */
export async function obtainPassphrase(request: PassphraseRequest): Promise<string> {
  const fromEnv = process.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UserError(`${request.purpose} needs a passphrase: set ${PASSPHRASE_ENV} or run on a terminal to be asked`);
  }
  const first = await promptHidden('passphrase: ');
  if (first === '') throw new UserError(`${request.purpose}: an empty passphrase is not allowed`);
  if (request.confirm) {
    const second = await promptHidden('confirm passphrase: ');
    if (second !== first) throw new UserError(`${request.purpose}: the passphrases do not match; try again`);
  }
  return first;
}

/** Read one line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    // Echo off before the prompt shows, so nothing typed in answer is ever echoed.
    stdin.setRawMode(true);
    process.stderr.write(prompt);
    stdin.resume();
    let value = '';
    const finish = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error); else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new UserError('interrupted'));
        if (ch === '\u0004' && value === '') return finish(new UserError('no passphrase given'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
