import type { Command } from '../command.js';
import { boolArg, stringArg } from '../command.js';
import { InputError } from '../../errors.js';
import { verifyImage } from '../../artifacts/verify.js';
import { progressLine } from '../../artifacts/progress.js';

const command: Command = {
  name: 'verify',
  summary: 'check a published image exactly as `pot import` does (digest and signature)',
  usage: [
    'usage: pot-image verify --url BASEURL --pot NAME --tag TAG [--public-key K.pub] [--json] [--timeout SECONDS]',
    '',
    "Runs pot import's checks against BASEURL (http://, https://, file:// or a folder):",
    'fetch NAME_TAG.xz.skein; with --public-key fetch and verify NAME_TAG.xz.skein.sig; stream',
    'NAME_TAG.xz into Skein-1024; add NAME_TAG.xz.meta (absent = empty); compare.',
    'Exit 0 only when everything matches; otherwise one line says what failed and exit 1.',
    '--json prints the result as JSON. --timeout SECONDS (30): a transfer fails when it gets no answer,',
    'or moves less than 16 KiB/s on average, within this many seconds (so a check ends in bounded time).',
  ].join('\n'),
  options: {
    url: { type: 'string' },
    pot: { type: 'string' },
    tag: { type: 'string' },
    'public-key': { type: 'string' },
    json: { type: 'boolean' },
    timeout: { type: 'string' },
  },
  async run(args) {
    const baseUrl = stringArg(args, 'url');
    const pot = stringArg(args, 'pot');
    const tag = stringArg(args, 'tag');
    if (!baseUrl || !pot || !tag) throw new InputError('verify: give --url BASEURL, --pot NAME and --tag TAG');
    const timeoutText = stringArg(args, 'timeout');
    let timeoutMs: number | undefined;
    if (timeoutText !== undefined) {
      const seconds = Number(timeoutText);
      if (!Number.isFinite(seconds) || seconds <= 0) throw new InputError(`verify: --timeout '${timeoutText}' is not a positive number of seconds`);
      timeoutMs = seconds * 1000;
    }
    const json = boolArg(args, 'json');
    const progress = progressLine(`${pot}_${tag}.xz`, process.stderr);
    const publicKeyFile = stringArg(args, 'public-key');
    const result = await verifyImage({
      baseUrl, pot, tag,
      ...(publicKeyFile ? { publicKeyFile } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
      ...(json ? {} : { onProgress: (received: number, total: number | undefined) => progress.update(received, total) }),
    });
    progress.done();
    if (json) {
      console.log(JSON.stringify(result, null, 2));
    } else if (result.ok) {
      const sig = result.signature === 'verified' ? `signature verified with ${publicKeyFile}` : 'signature not checked (no --public-key)';
      console.log(`OK ${pot}_${tag}: digest matches (${result.xzBytes} bytes of .xz${result.metaPresent ? ' + .meta' : ', no .meta'}); ${sig}`);
    } else {
      console.error(`pot-image: verify failed: ${result.failure!.message}`);
    }
    return result.ok ? 0 : 1;
  },
};
export default command;
