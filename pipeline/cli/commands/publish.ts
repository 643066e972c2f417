import type { Command } from '../command.js';
import { boolArg, stringArg } from '../command.js';
import { InputError } from '../../errors.js';
import { parseUrl } from '../../input/urls.js';
import { DEFAULT_TIMEOUT_MS } from '../../repository/http-client.js';
import { publishImage } from '../../repository/publish.js';
import { verifyPublished } from '../../repository/verify-published.js';

const usage = `usage: pot-image publish --from DIR --pot NAME --tag TAG --to URL|DIR [--public-key K.pub] [--public-url URL] [--allow-older]

Publishes <NAME>_<TAG>.xz, .xz.meta, .xz.skein.sig and .xz.skein (last) from DIR, plus
<NAME>_<TAG>.packages.json when present, to a folder (path or file://) or a WebDAV server
(http:// or https://), updates index.json and index.html there, then runs the consumer's
check (pot-image verify) from --public-url (default: the target).

  --from DIR        folder holding the exported image files
  --pot NAME        pot name, e.g. matrix-synapse-nomad-amd64-13_0
  --tag TAG         image version (semver); must be newer than every tag of NAME in the repository
  --to URL|DIR      repository: a folder, file://..., or a WebDAV http(s):// URL
  --public-key K    signify public key: check the signature before uploading and after publishing
  --public-url URL  the URL clients import from, when it differs from --to
  --allow-older     allow a tag lower than the newest one (back-porting a fix to an older line)
  --timeout SECONDS every request (upload, download, the consumer's check) fails when it gets no
                    answer, or moves less than 16 KiB/s on average, within this many seconds (60)

Credentials for WebDAV come from the environment only: POT_IMAGE_REPO_USER and
POT_IMAGE_REPO_PASSWORD (basic auth) or POT_IMAGE_REPO_TOKEN (bearer). A tag that is already
published with identical files is a no-op; with different files it is refused (exit 1).`;

function required(value: string | undefined, option: string, example: string): string {
  if (!value) throw new InputError(`publish: ${option} is required (e.g. ${option} ${example}); run 'pot-image publish --help'`);
  return value;
}

/** --timeout SECONDS as milliseconds; a positive number or exit 2. */
export function timeoutOption(text: string | undefined, fallbackMs: number, command = 'publish'): number {
  if (text === undefined) return fallbackMs;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new InputError(`${command}: --timeout '${text}' is not a positive number of seconds`);
  return seconds * 1000;
}

const command: Command = {
  name: 'publish',
  summary: 'publish an exported image to a folder or WebDAV repository and verify it',
  usage,
  options: {
    from: { type: 'string' },
    pot: { type: 'string' },
    tag: { type: 'string' },
    to: { type: 'string' },
    'public-key': { type: 'string' },
    'public-url': { type: 'string' },
    'allow-older': { type: 'boolean' },
    timeout: { type: 'string' },
  },
  async run(args) {
    const from = required(stringArg(args, 'from'), '--from', 'out');
    const pot = required(stringArg(args, 'pot'), '--pot', 'matrix-synapse-nomad-amd64-13_0');
    const tag = required(stringArg(args, 'tag'), '--tag', '0.11.0');
    const to = required(stringArg(args, 'to'), '--to', 'repo');
    const publicKey = stringArg(args, 'public-key');
    const publicUrl = stringArg(args, 'public-url');
    // Checked before anything is uploaded: no credentials (they would be printed), a usable scheme.
    if (publicUrl !== undefined) parseUrl(publicUrl, '--public-url', { schemes: ['http', 'https', 'file'] });
    const timeoutMs = timeoutOption(stringArg(args, 'timeout'), DEFAULT_TIMEOUT_MS);
    const log = (line: string) => console.log(line);
    // Ctrl-C stops the upload and cleans up the temporaries; a second one quits at once.
    const controller = new AbortController();
    const onSignal = () => {
      if (controller.signal.aborted) process.exit(130);
      console.error('pot-image: interrupted: removing temporary files (Ctrl-C again to quit at once)');
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let result;
    try {
      result = await publishImage({ from, pot, tag, to, publicKey, allowOlder: boolArg(args, 'allow-older'), log, signal: controller.signal, timeoutMs });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    await verifyPublished({ pot, tag, to, publicUrl, publicKey, log, timeoutMs });
    if (result.outcome === 'unchanged') {
      console.log(`no-op: ${pot} ${tag} was already published at ${result.location} with identical files`);
    } else {
      console.log(`published ${pot} ${tag} to ${result.location}`);
    }
    return 0;
  },
};
export default command;
