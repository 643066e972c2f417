import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command.js';
import { boolArg, printJson, stringArg } from '../command.js';
import { signalExitCode } from '../contract.js';
import { checkRepositoryFolder, cliPath, requireFile, requireFolder } from '../inputs.js';
import { formatSummary, type ReleaseSummary } from '../summary.js';
import { InputError, UserError } from '../../errors.js';
import { progressLine, type ProgressLine } from '../../artifacts/progress.js';
import { validatePotName, validateTag } from '../../repository/names.js';
import { parseUrl } from '../../input/urls.js';
import { DEFAULT_TIMEOUT_MS } from '../../repository/http-client.js';
import { publishImage } from '../../repository/publish.js';
import { verifyPublished } from '../../repository/verify-published.js';

const usage = `usage: pot-image publish --from DIR --pot NAME --tag TAG --to URL|DIR [--public-key K.pub] [--public-url URL]
                         [--create] [--require-signature] [--allow-older] [--json]

Publishes <NAME>_<TAG>.xz, .xz.meta, .xz.skein.sig and .xz.skein (last) from DIR, plus
<NAME>_<TAG>.packages.json when present, to a folder (path or file://) or a WebDAV server
(http:// or https://), updates index.json and index.html there, then runs the consumer's
check (pot-image verify) from --public-url (default: the target). Shows the progress of the
upload and of the check, and ends with a summary (image, tag, size, Skein-1024 digest, key
number, repository, time per step).

  --from DIR             folder holding the exported image files
  --pot NAME             pot name, e.g. matrix-synapse-nomad-amd64-13_0
  --tag TAG              image version (semver); must be newer than every tag of NAME in the repository
  --to URL|DIR           repository: a folder, file://..., or a WebDAV http(s):// URL
  --create               make the --to folder with its missing parents (without it a missing
                         folder is made only when its parent exists: a mistyped path is refused)
  --public-key K         signify public key: check the signature before uploading and after publishing
  --public-url URL       the URL clients import from, when it differs from --to
  --require-signature    refuse to publish an image without .xz.skein.sig (default: a warning)
  --allow-older          allow a tag lower than the newest one (back-porting a fix to an older line)
  --timeout SECONDS      every request (upload, download, the consumer's check) fails when it gets no
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
  json: true,
  cleansUpOnSignal: true,
  options: {
    from: { type: 'string' },
    pot: { type: 'string' },
    tag: { type: 'string' },
    to: { type: 'string' },
    create: { type: 'boolean' },
    'public-key': { type: 'string' },
    'public-url': { type: 'string' },
    'require-signature': { type: 'boolean' },
    'allow-older': { type: 'boolean' },
    timeout: { type: 'string' },
  },
  async run(args) {
    const started = Date.now();
    const from = required(cliPath(stringArg(args, 'from')), '--from', 'out');
    const pot = required(stringArg(args, 'pot'), '--pot', 'matrix-synapse-nomad-amd64-13_0');
    const tag = required(stringArg(args, 'tag'), '--tag', '0.11.0');
    let to = required(stringArg(args, 'to'), '--to', 'repo');
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) to = cliPath(to)!;
    const publicKey = cliPath(stringArg(args, 'public-key'));
    const publicUrl = stringArg(args, 'public-url');
    // Checked before anything is uploaded: no credentials (they would be printed), a usable scheme.
    if (publicUrl !== undefined) parseUrl(publicUrl, '--public-url', { schemes: ['http', 'https', 'file'] });
    const timeoutMs = timeoutOption(stringArg(args, 'timeout'), DEFAULT_TIMEOUT_MS);
    // Names first: nothing that could point outside the repository reaches the file system.
    validatePotName(pot);
    validateTag(tag);
    await requireFolder(from, '--from');
    if (publicKey) await requireFile(publicKey, '--public-key');
    const sigFile = join(from, `${pot}_${tag}.xz.skein.sig`);
    const signed = existsSync(sigFile);
    if (!signed) {
      const what = `${pot} ${tag} has no signature (${sigFile} is missing): clients that check signatures (pot import -C, POT_DEFAULT_SIGNATURE_PUBKEY) will refuse it`;
      if (boolArg(args, 'require-signature')) throw new InputError(`publish: ${what}; sign it first: pot-image sign --secret-key K.sec ${join(from, `${pot}_${tag}.xz.skein`)}`);
      console.error(`pot-image: warning: publishing UNSIGNED: ${what}`);
    }
    const folder = await checkRepositoryFolder(to, boolArg(args, 'create'));
    // Progress and log lines never mix with the --json document on stdout.
    const log = (line: string) => (args.json ? console.error(line) : console.log(line));
    if (folder === 'created') console.error(`note: created the new repository folder ${to}`);

    let progress: ProgressLine | undefined;
    let progressFile = '';
    const steps: Record<string, number> = {};
    let t = Date.now();
    const result = await publishImage({
      from, pot, tag, to, publicKey, allowOlder: boolArg(args, 'allow-older'), log, signal: args.signal, timeoutMs,
      onProgress: (file, sent, total) => {
        if (file !== progressFile) {
          progress?.done();
          progressFile = file;
          progress = progressLine(`upload ${file}`, process.stderr);
        }
        progress!.update(sent, total);
      },
    });
    progress?.done();
    steps.upload = Date.now() - t;
    if (args.signal.aborted) throw new UserError(`publishing ${pot} ${tag} was interrupted before the consumer's check; run it with pot-image verify`);

    // Nothing is left to clean up: a signal during the (read-only) consumer's check ends at once.
    args.signal.addEventListener('abort', () => {
      const signal = args.signal.reason as NodeJS.Signals;
      console.error(`pot-image: publish: interrupted by ${signal} during the consumer's check; ${pot} ${tag} is published: check it with pot-image verify`);
      process.exit(signalExitCode(signal));
    }, { once: true });
    t = Date.now();
    const check = progressLine(`check ${pot}_${tag}.xz`, process.stderr);
    const verified = await verifyPublished({
      pot, tag, to, publicUrl, publicKey, log, timeoutMs,
      onProgress: (received, total) => check.update(received, total),
    });
    check.done();
    steps['consumer check'] = Date.now() - t;

    const summary: ReleaseSummary = {
      image: pot,
      tag,
      size: result.entry.files.xz.size,
      skein1024: result.entry.skein,
      keyNumber: result.entry.keyFingerprint,
      repository: result.location,
      importFrom: verified.baseUrl,
      steps,
      totalMs: Date.now() - started,
    };
    if (args.json) {
      printJson({ ok: true, outcome: result.outcome, uploaded: result.uploaded, alreadyPresent: result.alreadyPresent,
        signature: verified.signature, ...summary });
      return 0;
    }
    console.log(result.outcome === 'unchanged'
      ? `no-op: ${pot} ${tag} was already published at ${result.location} with identical files`
      : `published ${pot} ${tag} to ${result.location}`);
    console.log(formatSummary('summary', summary));
    return 0;
  },
};
export default command;
