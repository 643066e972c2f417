// publish: the build's last steps. Put the signed image into the repository named by
// publish.to (folder or WebDAV), then run the consumer's check from publish.public_url
// (default: the target). Both run on this machine and describe themselves as pot-image commands (the plan).
import type { ListrTask } from 'listr2';
import { dirname } from 'node:path';
import { parseUrl } from '../input/urls.js';
import { PASSPHRASE_ENV } from '../artifacts/passphrase.js';
import { decryptSecretKey, publicKeyOf, readSecretKeyFile, type PublicKey } from '../artifacts/signify.js';
import { progressLine, type ProgressLine } from '../artifacts/progress.js';
import { publishImage } from '../repository/publish.js';
import { verifyPublished } from '../repository/verify-published.js';
import { shellQuote } from '../runner/shell-quote.js';
import type { BuildContext } from './context.js';

/** Progress of a long transfer as the task's output: a line per quarter once it has run 2 s. */
function taskProgress(task: { output?: string }, label: string): ProgressLine {
  const asOutput = { isTTY: false, write: (line: string) => { task.output = line.trim(); return true; } };
  return progressLine(label, asOutput as unknown as NodeJS.WritableStream);
}

function skipReason(ctx: BuildContext): string | false {
  if (ctx.options.noPublish) return 'publish: skipped (--no-publish)';
  if (!ctx.definition.publish.to) return 'publish: skipped (no publish.to in the image definition)';
  return false;
}

function publishCommand(ctx: BuildContext): string {
  const d = ctx.definition;
  return [
    'pot-image publish',
    `--from ${shellQuote(dirname(ctx.artifacts.xz))}`,
    `--pot ${shellQuote(d.potName)}`,
    `--tag ${shellQuote(d.tag)}`,
    `--to ${shellQuote(d.publish.to!)}`,
    ...(d.sign.publicKey ? [`--public-key ${shellQuote(d.sign.publicKey)}`] : []),
    ...(d.publish.publicUrl ? [`--public-url ${shellQuote(d.publish.publicUrl)}`] : []),
    ...(ctx.options.allowOlder ? ['--allow-older'] : []),
  ].join(' ');
}

function verifyCommand(ctx: BuildContext): string {
  const d = ctx.definition;
  const key = d.sign.publicKey ? ` --public-key ${shellQuote(d.sign.publicKey)}` : '';
  return `pot-image verify --public-url ${shellQuote(d.publish.publicUrl ?? d.publish.to!)} --pot ${shellQuote(d.potName)} --tag ${shellQuote(d.tag)}${key}`;
}

/** The key to check the published signature with: sign.public_key, else the public half of sign.key. */
async function checkingKey(ctx: BuildContext): Promise<{ file?: string; key?: PublicKey; name?: string }> {
  const d = ctx.definition;
  if (d.sign.publicKey) return { file: d.sign.publicKey };
  if (!d.sign.key) return {};
  const enc = await readSecretKeyFile(d.sign.key);
  const passphrase = enc.rounds > 0 ? process.env[PASSPHRASE_ENV] ?? null : null;
  const secret = decryptSecretKey(enc, passphrase, d.sign.key);
  return { key: publicKeyOf(secret, 'derived'), name: `the public half of ${d.sign.key}` };
}

export function publishTasks(): ListrTask<BuildContext>[] {
  return [
    {
      title: 'publish: upload the image to the repository',
      skip: skipReason,
      task: async (ctx, task) => {
        const d = ctx.definition;
        // Before the upload: the public URL must not carry credentials (it is printed).
        if (d.publish.publicUrl) parseUrl(d.publish.publicUrl, 'publish.public_url', { schemes: ['http', 'https', 'file'] });
        const progress = new Map<string, ProgressLine>();
        const result = await ctx.home.inProcess(publishCommand(ctx), () => publishImage({
          from: dirname(ctx.artifacts.xz),
          pot: d.potName,
          tag: d.tag,
          to: d.publish.to!,
          allowOlder: ctx.options.allowOlder,
          freebsdRelease: d.freebsd.potRelease,
          log: (line) => { task.output = line; },
          onProgress: (file, sent, total) => {
            if (!progress.has(file)) progress.set(file, taskProgress(task, `upload ${file}`));
            progress.get(file)!.update(sent, total);
          },
        }));
        if (!result) return;
        ctx.summary.publish = {
          to: result.location,
          outcome: result.outcome,
          uploaded: result.uploaded,
          alreadyPresent: result.alreadyPresent,
          skein: result.entry.skein,
        };
        task.title = result.outcome === 'unchanged'
          ? `publish: ${d.potName} ${d.tag} was already in ${result.location} with identical files (no-op)`
          : `publish: ${d.potName} ${d.tag} is in ${result.location}`;
      },
    },
    {
      title: 'publish: verify the published image the way a client imports it',
      skip: skipReason,
      task: async (ctx, task) => {
        const d = ctx.definition;
        const verified = await ctx.home.inProcess(verifyCommand(ctx), async () => {
          const key = await checkingKey(ctx);
          return verifyPublished({
            pot: d.potName,
            tag: d.tag,
            to: d.publish.to!,
            publicUrl: d.publish.publicUrl,
            publicKey: key.file,
            publicKeyObject: key.key,
            publicKeyName: key.name,
            log: (line) => { task.output = line; },
            onProgress: (() => {
              const progress = taskProgress(task, `check ${d.potName}_${d.tag}.xz`);
              return (received: number, total: number | undefined) => progress.update(received, total);
            })(),
          });
        });
        if (!verified) return;
        if (verified.signature !== 'verified') {
          ctx.warnings.push(`the published image's signature was not checked from ${verified.shown}: the image is unsigned or no public key is configured (sign.public_key)`);
        }
        ctx.summary.publish = { ...(ctx.summary.publish as object), verifiedFrom: verified.shown, signature: verified.signature };
        task.title = `publish: verified from ${verified.shown} (${verified.signature === 'verified' ? 'digest and signature' : 'digest'})`;
      },
    },
  ];
}
