// The proof after publishing: the consumer's own check (pot import's order) run
// against the URL clients use. A folder repository without a public URL is served
// on 127.0.0.1 for the check, the way `pot-image serve` would serve it.
import { UserError } from '../errors.js';
import type { PublicKey } from '../artifacts/signify.js';
import { verifyImage } from '../artifacts/verify.js';
import { parseUrl } from '../input/urls.js';
import { parseTarget } from './open-target.js';
import { serveRepository } from './serve.js';

export interface VerifyPublishedOptions {
  pot: string;
  tag: string;
  /** Where it was published (folder or URL). */
  to: string;
  /** The URL clients import from; default: `to`. */
  publicUrl?: string;
  /** signify public key file. */
  publicKey?: string;
  /** An already-loaded public key instead (e.g. derived from the signing key), named in messages by publicKeyName. */
  publicKeyObject?: PublicKey;
  publicKeyName?: string;
  /** The window of verify's idle timeout and throughput floor. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** Run `pot-image verify` against the published image; throws UserError when it fails. */
export async function verifyPublished(options: VerifyPublishedOptions): Promise<{ baseUrl: string; shown: string; signature: string }> {
  const log = options.log ?? (() => undefined);
  // Credentials in the public URL would be printed below: refused like everywhere else.
  let baseUrl = options.publicUrl === undefined ? undefined : parseUrl(options.publicUrl, '--public-url', { schemes: ['http', 'https', 'file'] }).href;
  let served: Awaited<ReturnType<typeof serveRepository>> | undefined;
  if (!baseUrl) {
    const target = parseTarget(options.to);
    if (target.kind === 'folder') {
      served = await serveRepository(target.path, '127.0.0.1', 0);
      baseUrl = served.url;
    } else {
      baseUrl = target.url.href.endsWith('/') ? target.url.href : `${target.url.href}/`;
    }
  }
  try {
    const result = await verifyImage({
      baseUrl, pot: options.pot, tag: options.tag,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.publicKey ? { publicKeyFile: options.publicKey } : {}),
      ...(options.publicKeyObject ? { publicKey: options.publicKeyObject, publicKeyName: options.publicKeyName } : {}),
    });
    const shown = served ? `${options.to} (served at ${baseUrl})` : baseUrl;
    if (!result.ok) {
      throw new UserError(`published ${options.pot} ${options.tag}, but the consumer's check from ${shown} failed: ${result.failure?.message ?? 'unknown reason'}`);
    }
    log(result.signature === 'verified'
      ? `verified ${options.pot} ${options.tag} from ${shown}: digest and signature match`
      : `verified ${options.pot} ${options.tag} from ${shown}: digest matches (signature not checked: no public key given)`);
    return { baseUrl, shown, signature: result.signature };
  } finally {
    await served?.close();
  }
}
