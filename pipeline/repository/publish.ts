// Publish one image to a repository so that it is never half there and never changes:
// each file goes up under a temporary name and is renamed into place (refusing to
// replace an existing file) once its size (and for the .xz, its digest) is checked;
// the .skein goes last, because clients fetch it first. Then the index is updated
// under the repository's lock.
import { createHash, randomBytes } from 'node:crypto';
import semver from 'semver';
import { UserError } from '../errors.js';
import { ImageDigest } from '../artifacts/image-digest.js';
import { verifySignatureFile } from '../artifacts/signify.js';
import { parseIndex, renderIndexHtml, tagsOf, withEntry, type RepositoryIndex, type TagEntry } from './index-file.js';
import { ParallelDigest, warmUpDigestWorker } from './parallel-digest.js';
import { readLocalImage, type LocalFile, type LocalImage } from './local-image.js';
import { validatePotName, validateTag } from './names.js';
import { openTarget, parseTarget } from './open-target.js';
import type { RetryPolicy } from './http-client.js';
import type { RepositoryTarget } from './target.js';

export const INDEX_JSON = 'index.json';
export const INDEX_HTML = 'index.html';

export interface PublishOptions {
  /** Folder holding <pot>_<tag>.xz, .xz.meta, .xz.skein and (optionally) .xz.skein.sig, .packages.json. */
  from: string;
  pot: string;
  tag: string;
  /** A folder, file:// URL or http(s):// WebDAV URL. */
  to: string;
  /** Check the signature locally before uploading (signify public key). */
  publicKey?: string;
  /** Publish even when the repository has a newer tag of this pot (back-porting a fix). */
  allowOlder?: boolean;
  /** For the index; default: from the pot name (…-13_0 → 13.0). */
  freebsdRelease?: string;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  retry?: RetryPolicy;
  /** WebDAV: the window of the idle timeout and of the throughput floor (default 60 s). */
  timeoutMs?: number;
  lock?: { staleMs: number; waitMs: number };
  /** Ctrl-C: stop the upload, remove the temporaries, fail with exit 130. */
  signal?: AbortSignal;
}

export type PublishOutcome = 'published' | 'unchanged' | 'completed';

export interface PublishResult {
  outcome: PublishOutcome;
  location: string;
  uploaded: string[];
  alreadyPresent: string[];
  entry: TagEntry;
}

export const DEFAULT_LOCK = { staleMs: 60_000, waitMs: 300_000 };

type Comparison = 'missing' | 'same' | 'different';

interface Upload {
  file: LocalFile;
  bytes?: Buffer;
}

/** The FreeBSD release a pot name carries: matrix-synapse-nomad-amd64-13_0 → 13.0. */
export function releaseFromPotName(pot: string): string | null {
  const m = /-(\d+)_(\d+)$/.exec(pot);
  return m ? `${m[1]}.${m[2]}` : null;
}

function inOrder(image: LocalImage): Upload[] {
  // .xz first (largest, invisible without the .skein), .skein last (makes the tag exist for clients).
  const list: Upload[] = [{ file: image.xz }, { file: image.meta, bytes: image.meta.bytes }];
  if (image.sig) list.push({ file: image.sig, bytes: image.sig.bytes });
  if (image.packages) list.push({ file: image.packages, bytes: image.packages.bytes });
  list.push({ file: image.skein, bytes: image.skein.bytes });
  return list;
}

async function compare(target: RepositoryTarget, image: LocalImage, upload: Upload): Promise<Comparison> {
  const name = upload.file.name;
  if (upload.bytes) {
    const remote = await target.read(name);
    if (remote === null) return 'missing';
    return remote.equals(upload.bytes) ? 'same' : 'different';
  }
  const remote = await target.stat(name);
  if (remote === null) return 'missing';
  if (remote.size !== upload.file.size) return 'different';
  // Same size: the .xz is the same image when its digest (over .xz then .meta) matches ours.
  const digest = new ImageDigest();
  await target.readInto(name, (chunk) => digest.addXz(chunk));
  return digest.finish(image.meta.bytes) === image.skein.hex ? 'same' : 'different';
}

function refuseDifferent(target: RepositoryTarget, image: LocalImage, name: string): UserError {
  return new UserError(`refusing to publish ${image.pot} ${image.tag}: ${target.describe(name)} already exists with different content, and a published tag never changes; publish the new build under a higher tag`);
}

/** inputs.fingerprint from the package manifest, when it is readable JSON that has one. */
function inputsFingerprint(image: LocalImage): string | undefined {
  if (!image.packages) return undefined;
  try {
    const fingerprint = (JSON.parse(image.packages.bytes.toString('utf8')) as { inputs?: { fingerprint?: unknown } }).inputs?.fingerprint;
    return typeof fingerprint === 'string' ? fingerprint : undefined;
  } catch {
    return undefined;
  }
}

function entryFor(image: LocalImage, options: PublishOptions): TagEntry {
  const file = (f: LocalFile) => ({ name: f.name, size: f.size });
  const fingerprint = inputsFingerprint(image);
  return {
    tag: image.tag,
    files: {
      xz: file(image.xz),
      meta: file(image.meta),
      skein: file(image.skein),
      ...(image.sig ? { sig: file(image.sig) } : {}),
      ...(image.packages ? { packages: file(image.packages) } : {}),
    },
    skein: image.skein.hex,
    signed: image.sig !== undefined,
    keyFingerprint: image.sig?.keyFingerprint ?? null,
    published: new Date().toISOString(),
    freebsdRelease: options.freebsdRelease ?? releaseFromPotName(image.pot),
    imageVersion: image.tag,
    ...(fingerprint ? { inputsFingerprint: fingerprint } : {}),
  };
}

/** Tags of this pot the repository already has, other than ours: from its index, and from its files when it can list them. */
async function otherTags(target: RepositoryTarget, index: RepositoryIndex, image: LocalImage): Promise<string[]> {
  const tags = new Set(tagsOf(index, image.pot));
  if (target.list) {
    const prefix = `${image.pot}_`;
    for (const name of await target.list()) {
      if (name.startsWith(prefix) && name.endsWith('.xz.skein')) tags.add(name.slice(prefix.length, -'.xz.skein'.length));
    }
  }
  tags.delete(image.tag);
  return [...tags].filter((t) => semver.valid(t));
}

function checkOrder(image: LocalImage, tags: string[], allowOlder: boolean, location: string): void {
  const equal = tags.find((t) => semver.eq(t, image.tag));
  if (equal) {
    throw new UserError(`refusing to publish ${image.pot} ${image.tag}: the repository at ${location} already has ${equal}, the same version; publish under a higher tag`);
  }
  const newer = tags.filter((t) => semver.gt(t, image.tag)).sort(semver.rcompare);
  if (newer.length > 0 && !allowOlder) {
    throw new UserError(`refusing to publish ${image.pot} ${image.tag}: the repository at ${location} already has the newer ${newer[0]}; publish a higher version, or pass --allow-older to back-port a fix to an older line`);
  }
}

/** Names the bytes of one upload (WebDAV temporaries are named by it). */
function contentId(image: LocalImage, upload: Upload): string {
  return upload.bytes ? createHash('sha256').update(upload.bytes).digest('hex').slice(0, 16) : image.skein.hex.slice(0, 16);
}

/** Upload one file under a temporary name and check what landed; returns the temporary name. */
async function uploadTemporary(target: RepositoryTarget, image: LocalImage, upload: Upload, temps: Set<string>, signal?: AbortSignal): Promise<string | null> {
  const { file } = upload;
  const temp = target.temporaryName(file.name, contentId(image, upload));
  temps.add(temp);
  if (upload.bytes) {
    await target.uploadBytes(temp, upload.bytes);
  } else {
    // The digest of exactly the bytes sent, computed beside the upload in a worker thread.
    const digest = new ParallelDigest();
    let actual: { hex: string; bytes: number };
    try {
      await target.upload(temp, {
        path: file.path,
        size: file.size,
        signal,
        observe: () => {
          digest.reset();
          return (chunk) => digest.add(chunk);
        },
      });
      actual = await digest.finish(image.meta.bytes);
    } finally {
      await digest.close();
    }
    if (actual.bytes !== file.size || actual.hex !== image.skein.hex) {
      throw new UserError(`${file.path} does not match ${image.skein.path} (its Skein-1024 digest differs): the export is damaged or changed while uploading; export the image again, then publish`);
    }
  }
  const landed = await target.stat(temp);
  // Gone: a publisher of the identical bytes (same temporary name on WebDAV) moved it into place first.
  if (landed === null) return null;
  if (landed.size !== file.size) {
    throw new UserError(`the repository holds ${landed.size} bytes of ${target.describe(temp)} after the upload, expected ${file.size}; publish again`);
  }
  return temp;
}

/** Rename an uploaded temporary into place; another publisher's identical file there is fine. */
async function placeTemporary(target: RepositoryTarget, image: LocalImage, upload: Upload, temp: string | null, temps: Set<string>): Promise<'placed' | 'raced'> {
  const result = temp === null ? 'gone' : await target.placeNew(temp, upload.file.name);
  if (result === 'placed') {
    temps.delete(temp!);
    return 'placed';
  }
  if (temp !== null) {
    await target.remove(temp);
    temps.delete(temp);
  }
  if ((await compare(target, image, upload)) !== 'same') {
    if (result === 'gone') throw new UserError(`${target.describe(temp ?? upload.file.name)} disappeared before it could be renamed to ${upload.file.name}; publish again`);
    throw refuseDifferent(target, image, upload.file.name);
  }
  return 'raced';
}

async function writeIndex(target: RepositoryTarget, index: RepositoryIndex, temps: Set<string>): Promise<void> {
  for (const [name, content] of [[INDEX_JSON, `${JSON.stringify(index, null, 2)}\n`], [INDEX_HTML, renderIndexHtml(index)]] as const) {
    const temp = target.temporaryName(name, randomBytes(8).toString('hex'));
    temps.add(temp);
    await target.uploadBytes(temp, Buffer.from(content));
    await target.replace(temp, name);
    temps.delete(temp);
  }
}

function interrupted(image: LocalImage): UserError {
  return new UserError(`publishing ${image.pot} ${image.tag} was interrupted; no temporary file is left, and no .skein was placed unless it was already there: publish again to complete it`, 130);
}

export async function publishImage(options: PublishOptions): Promise<PublishResult> {
  const log = options.log ?? (() => undefined);
  const lockOptions = options.lock ?? DEFAULT_LOCK;
  // Everything that could name a path outside the repository is checked before any I/O.
  validatePotName(options.pot);
  validateTag(options.tag);
  const spec = parseTarget(options.to);

  warmUpDigestWorker(); // ready by the time the checks below are done and the .xz goes up
  const image = await readLocalImage(options.from, options.pot, options.tag);
  if (options.publicKey) {
    if (!image.sig) {
      throw new UserError(`${options.from} has no ${image.names.sig} but a public key was given; sign the image (pot-image sign) before publishing`);
    }
    await verifySignatureFile(options.publicKey, image.skein.path, image.sig.path);
  }

  const target = openTarget(spec, options.env, options.retry, options.timeoutMs);
  const temps = new Set<string>();
  const placedHere: string[] = [];
  try {
    // The whole index, every entry of every pot, is checked before anything is uploaded.
    const indexBefore = parseIndex(await target.read(INDEX_JSON), target.describe(INDEX_JSON));
    const uploads = inOrder(image);
    const states = new Map<string, Comparison>();
    for (const upload of uploads) {
      const state = await compare(target, image, upload);
      if (state === 'different') throw refuseDifferent(target, image, upload.file.name);
      states.set(upload.file.name, state);
    }
    if (!image.sig && (await target.stat(image.names.sig))) {
      throw new UserError(`refusing to publish ${image.pot} ${image.tag}: the repository has ${target.describe(image.names.sig)} but ${options.from} has no signature; published tags never change: publish the signed image, or a new tag`);
    }
    const listed = tagsOf(indexBefore, image.pot).includes(image.tag);
    const visible = states.get(image.names.skein) === 'same';
    // Early, to fail before a long upload; checked again under the lock (below), which decides.
    if (!listed && !visible) checkOrder(image, await otherTags(target, indexBefore, image), options.allowOlder ?? false, target.location);

    // What crashed publishes of this image left: removed, and said so.
    for (const upload of uploads) {
      for (const leftover of await target.removeLeftovers(upload.file.name, contentId(image, upload), lockOptions.staleMs)) {
        log(leftover.removed
          ? `${leftover.name}: removed a temporary file left by an interrupted publish`
          : `${leftover.name}: a recent temporary file of this image (an interrupted publish, or another publisher of it right now); this publish replaces it`);
      }
    }

    const uploaded: string[] = [];
    const alreadyPresent = uploads.filter((u) => states.get(u.file.name) === 'same').map((u) => u.file.name);
    const record = (upload: Upload, result: 'placed' | 'raced') => {
      if (result === 'raced') {
        alreadyPresent.push(upload.file.name);
        log(`${upload.file.name}: already there (another publisher placed the identical file)`);
        return;
      }
      uploaded.push(upload.file.name);
      placedHere.push(upload.file.name);
      log(`${upload.file.name}: uploaded (${upload.file.size} bytes) to ${target.describe(upload.file.name)}`);
    };
    const skein = uploads[uploads.length - 1]!;
    for (const upload of uploads.slice(0, -1)) {
      if (states.get(upload.file.name) === 'same') continue;
      if (options.signal?.aborted) break;
      const temp = await uploadTemporary(target, image, upload, temps, options.signal);
      record(upload, await placeTemporary(target, image, upload, temp, temps));
    }
    if (options.signal?.aborted) throw interrupted(image);
    if (uploaded.length === 0 && listed && visible) {
      log(`${image.pot} ${image.tag} is already published at ${target.location} with identical files: nothing to do`);
      return { outcome: 'unchanged', location: target.location, uploaded, alreadyPresent, entry: indexBefore.pots[image.pot]!.tags[image.tag]! };
    }

    // The .skein makes the tag visible: its order check, its rename and the index entry happen
    // together under the repository's lock, so two publishers cannot both pass the check.
    const skeinTemp = visible ? null : await uploadTemporary(target, image, skein, temps, options.signal);
    const unlock = await target.lock(`pot-image publish ${image.pot} ${image.tag}`, { ...lockOptions, log });
    let finalEntry: TagEntry;
    try {
      const current = parseIndex(await target.read(INDEX_JSON), target.describe(INDEX_JSON));
      if (!visible) {
        if (!tagsOf(current, image.pot).includes(image.tag)) {
          try {
            checkOrder(image, await otherTags(target, current, image), options.allowOlder ?? false, target.location);
          } catch (error) {
            // Never visible (no .skein): remove what this run placed, so nothing of the refused tag stays.
            for (const name of placedHere) await target.remove(name).catch(() => undefined);
            throw error;
          }
        }
        record(skein, await placeTemporary(target, image, skein, skeinTemp, temps));
      }
      const next = withEntry(current, image.pot, entryFor(image, options));
      await writeIndex(target, next, temps);
      finalEntry = next.pots[image.pot]!.tags[image.tag]!;
    } finally {
      await unlock();
    }
    log(`${INDEX_JSON} and ${INDEX_HTML} updated at ${target.location}`);
    const outcome: PublishOutcome = alreadyPresent.length > 0 || listed ? 'completed' : 'published';
    return { outcome, location: target.location, uploaded, alreadyPresent, entry: finalEntry };
  } catch (error) {
    throw options.signal?.aborted ? interrupted(image) : error;
  } finally {
    // Leave no temporaries behind, whatever happened.
    for (const temp of temps) await target.remove(temp).catch(() => undefined);
    await target.close();
  }
}
