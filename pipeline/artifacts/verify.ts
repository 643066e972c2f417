// The consumer's check of a published image, in `pot import`'s order:
//   1. fetch <pot>_<tag>.xz.skein
//   2. with a public key: fetch .xz.skein.sig and verify it over the .skein file
//   3. fetch .xz, streaming it into the digest (constant memory, no copy on disk)
//   4. fetch .xz.meta (absent = empty, as pot does)
//   5. Skein-1024(.xz ++ .meta) must equal the .skein file byte for byte
import { InputError, UserError } from '../errors.js';
import { checkPotName, checkTag } from '../input/names.js';
import { ImageDigest } from './image-digest.js';
import { DEFAULT_POLICY, FetchFailed, MissingFile, imageLocation, type FetchPolicy } from './remote-file.js';
import { parseSignature, readPublicKeyFile, verifySignature, type PublicKey } from './signify.js';
import { skeinLine } from './skein1024.js';

export type VerifyStep = 'skein' | 'signature' | 'xz' | 'meta' | 'digest';

export interface VerifyOptions {
  baseUrl: string;
  pot: string;
  tag: string;
  publicKeyFile?: string;
  /** An already-loaded public key (instead of publicKeyFile); `publicKeyName` names it in messages. */
  publicKey?: PublicKey;
  publicKeyName?: string;
  timeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
  onProgress?: (received: number, total: number | undefined) => void;
}

export interface VerifyResult {
  ok: boolean;
  baseUrl: string;
  pot: string;
  tag: string;
  urls: { skein: string; sig: string; xz: string; meta: string };
  signature: 'verified' | 'not-checked' | 'failed';
  metaPresent: boolean;
  xzBytes: number;
  expectedDigest?: string;
  actualDigest?: string;
  failure?: { step: VerifyStep; message: string; url?: string; status?: number };
}

/** The file names pot export writes for `pot`/`tag`. */
export function imageFileNames(pot: string, tag: string): { xz: string; meta: string; skein: string; sig: string } {
  const xz = `${pot}_${tag}.xz`;
  return { xz, meta: `${xz}.meta`, skein: `${xz}.skein`, sig: `${xz}.skein.sig` };
}

const SKEIN_FILE_BYTES = 257;
const SMALL_FILE_LIMIT = 64 * 1024;

class StepFailure extends Error {
  constructor(readonly step: VerifyStep, message: string, readonly url?: string, readonly status?: number) {
    super(message);
  }
}

/** Turn a fetch error into a StepFailure for `step` (a missing file names its URL and status). */
function fetchFailure(step: VerifyStep, error: unknown): StepFailure {
  if (error instanceof MissingFile || error instanceof FetchFailed) {
    return new StepFailure(step, error.message, error.location, error.status);
  }
  throw error;
}

export async function verifyImage(options: VerifyOptions): Promise<VerifyResult> {
  const { pot, tag } = options;
  if (!pot || !tag) throw new InputError('verify needs both a pot name and a tag');
  // Names, not paths: ../outside/x must not read files outside the repository.
  checkPotName(pot);
  checkTag(tag);
  const policy: FetchPolicy = {
    timeoutMs: options.timeoutMs ?? DEFAULT_POLICY.timeoutMs,
    retries: options.retries ?? DEFAULT_POLICY.retries,
    retryDelayMs: options.retryDelayMs ?? DEFAULT_POLICY.retryDelayMs,
  };
  const location = imageLocation(options.baseUrl, policy);
  let publicKey: PublicKey | undefined = options.publicKey;
  const keyName = options.publicKeyFile ?? options.publicKeyName ?? 'the public key';
  if (!publicKey && options.publicKeyFile) {
    try {
      publicKey = await readPublicKeyFile(options.publicKeyFile);
    } catch (error) {
      throw new InputError(error instanceof Error ? error.message : String(error));
    }
  }
  const names = imageFileNames(pot, tag);
  const result: VerifyResult = {
    ok: false,
    baseUrl: options.baseUrl,
    pot,
    tag,
    urls: {
      skein: location.locate(names.skein),
      sig: location.locate(names.sig),
      xz: location.locate(names.xz),
      meta: location.locate(names.meta),
    },
    signature: 'not-checked',
    metaPresent: false,
    xzBytes: 0,
  };

  try {
    // 1. the digest file
    let skeinFile: Buffer;
    try {
      skeinFile = await location.readSmall(names.skein, SMALL_FILE_LIMIT);
    } catch (error) {
      throw fetchFailure('skein', error);
    }
    const expected = skeinFile.toString('latin1');
    if (skeinFile.length !== SKEIN_FILE_BYTES || !/^[0-9a-f]{256}\n$/.test(expected)) {
      throw new StepFailure('skein', `${result.urls.skein} is not a Skein-1024 digest file `
        + '(expected 256 lowercase hex digits and a newline, as skein1024 -q writes)', result.urls.skein);
    }
    result.expectedDigest = expected.slice(0, 256);

    // 2. the signature, only when a key is configured (as pot import)
    if (publicKey) {
      let sigText: Buffer;
      try {
        sigText = await location.readSmall(names.sig, SMALL_FILE_LIMIT);
      } catch (error) {
        throw fetchFailure('signature', error);
      }
      try {
        const sig = parseSignature(sigText.toString('utf8'), result.urls.sig);
        verifySignature(publicKey, skeinFile, sig, { key: keyName, sig: result.urls.sig });
      } catch (error) {
        if (error instanceof UserError) {
          result.signature = 'failed';
          throw new StepFailure('signature', error.message, result.urls.sig);
        }
        throw error;
      }
      result.signature = 'verified';
    }

    // 3. the image, streamed into the digest
    let digest = new ImageDigest();
    let total: number | undefined;
    try {
      await location.stream(names.xz, {
        received: () => digest.xzBytes,
        write: (chunk) => {
          digest.addXz(chunk);
          options.onProgress?.(digest.xzBytes, total);
        },
        restart: () => { digest = new ImageDigest(); },
        total: (bytes) => { total = bytes; },
      });
    } catch (error) {
      throw fetchFailure('xz', error);
    }
    result.xzBytes = digest.xzBytes;

    // 4. the meta file; absent means empty
    let meta: Buffer | null = null;
    try {
      meta = await location.readSmall(names.meta, SMALL_FILE_LIMIT);
      result.metaPresent = true;
    } catch (error) {
      if (!(error instanceof MissingFile)) throw fetchFailure('meta', error);
    }

    // 5. compare byte for byte, as pot does
    const actual = digest.finish(meta);
    result.actualDigest = actual;
    if (skeinLine(actual) !== expected) {
      throw new StepFailure('digest', `digest mismatch: ${result.urls.xz} + ${result.metaPresent ? '.meta' : 'empty .meta (none published)'} `
        + `hash to ${actual.slice(0, 16)}…, but ${result.urls.skein} says ${expected.slice(0, 16)}…`, result.urls.xz);
    }
    result.ok = true;
  } catch (error) {
    if (!(error instanceof StepFailure)) throw error;
    result.failure = {
      step: error.step,
      message: error.message,
      ...(error.url !== undefined ? { url: error.url } : {}),
      ...(error.status !== undefined ? { status: error.status } : {}),
    };
  }
  return result;
}
