// Reuse: a fingerprint of what the image is built from (the definition without
// its version and without fields that do not shape the image, every flavour
// file, the FreeBSD release) and the fingerprint recorded for the last
// published tag, read from the repository the build publishes to.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import type { ImageDefinition } from '../definition/types.js';
import type { PackagesManifest } from './package-manifest.js';

/** Definition fields that change where the image goes or how it is checked, not what is in it. */
const NOT_INPUTS = ['version', 'sign', 'publish', 'export', 'acceptance'];

export interface InputFingerprint {
  /** `sha256:<hex>` over the parts below. */
  fingerprint: string;
  /** Paths (relative to the flavour folder) → sha256 of their bytes. */
  flavourFiles: Record<string, string>;
  release: string;
}

/** JSON with sorted keys, so the same content always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The flavour's files: top-level entries named FLAVOUR, FLAVOUR+N, FLAVOUR.sh, FLAVOUR.d (recursively). */
export function flavourFiles(sourceDir: string, flavour: string): Record<string, string> {
  const out: Record<string, string> = {};
  const ours = (name: string) => name === flavour || name.startsWith(`${flavour}+`) || name.startsWith(`${flavour}.`);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) out[relative(sourceDir, path)] = sha256(readFileSync(path));
    }
  };
  for (const name of readdirSync(sourceDir).sort()) {
    if (!ours(name)) continue;
    const path = join(sourceDir, name);
    if (statSync(path).isDirectory()) walk(path);
    else out[name] = sha256(readFileSync(path));
  }
  return out;
}

export function computeInputFingerprint(definition: ImageDefinition): InputFingerprint {
  const doc = (parseYaml(readFileSync(definition.file, 'utf8')) ?? {}) as Record<string, unknown>;
  const fromFile = Object.fromEntries(Object.entries(doc).filter(([k]) => !NOT_INPUTS.includes(k)));
  // The resolved values too: command-line overrides (--release, --arch, …) change the image.
  const resolved = {
    flavour: definition.flavour,
    release: definition.freebsd.release,
    arch: definition.freebsd.arch,
    network: definition.pot.network,
    before: definition.flavours.before,
    chain: definition.flavours.chain,
  };
  const files = flavourFiles(definition.flavours.source, definition.flavour);
  // The payload's image-version only repeats the definition's version (which is not an input either):
  // a version bump alone must not count as a change, or the reuse check could never fire.
  delete files[`${definition.flavour}.d/image-version`];
  const fingerprint = `sha256:${sha256(canonical({ v: 1, definition: fromFile, resolved, files }))}`;
  return { fingerprint, flavourFiles: files, release: definition.freebsd.release };
}

export interface LastPublished {
  tag: string;
  /** Where it was read from (for messages). */
  source: string;
  fingerprint?: string;
  manifest?: PackagesManifest;
}

export type Fetcher = (location: string) => Promise<string | undefined>;

function authHeaders(): Record<string, string> {
  const token = process.env.POT_IMAGE_REPO_TOKEN;
  if (token) return { authorization: `Bearer ${token}` };
  const user = process.env.POT_IMAGE_REPO_USER;
  if (user) return { authorization: `Basic ${Buffer.from(`${user}:${process.env.POT_IMAGE_REPO_PASSWORD ?? ''}`).toString('base64')}` };
  return {};
}

/** Read a file of the repository: a folder path, file:// or http(s)://. Missing → undefined. */
export const readRepositoryFile: Fetcher = async (location) => {
  if (/^https?:\/\//.test(location)) {
    const res = await fetch(location, { headers: authHeaders(), signal: AbortSignal.timeout(20_000) });
    if (res.status === 404 || res.status === 410) return undefined;
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await res.text();
  }
  const path = location.startsWith('file://') ? new URL(location).pathname : location;
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
};

function join2(base: string, name: string): string {
  return `${base.replace(/\/+$/, '')}/${name}`;
}

interface TagEntry { tag: string; fingerprint?: string; packages?: string }

/** pots[pot].tags as the publisher writes it: an object keyed by tag, or a list of {tag, …}. */
function tagEntries(index: unknown, pot: string): TagEntry[] {
  const pots = (index as { pots?: unknown })?.pots;
  const entry = pots && typeof pots === 'object' ? (pots as Record<string, unknown>)[pot] : undefined;
  const tags = entry && typeof entry === 'object' ? (entry as { tags?: unknown }).tags : undefined;
  const pick = (tag: string, v: unknown): TagEntry => {
    const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
    const inputs = o.inputs as { fingerprint?: unknown } | undefined;
    const fp = inputs?.fingerprint ?? o.inputsFingerprint ?? o.fingerprint;
    const files = o.files as Record<string, unknown> | undefined;
    const pk = (files && !Array.isArray(files) ? files.packages : undefined) ?? o.packages;
    const pkName = typeof pk === 'string' ? pk : pk && typeof pk === 'object' && typeof (pk as { name?: unknown }).name === 'string' ? (pk as { name: string }).name : undefined;
    return { tag, fingerprint: typeof fp === 'string' ? fp : undefined, packages: pkName };
  };
  if (Array.isArray(tags)) {
    return tags.flatMap((t) => (typeof t === 'string' ? [{ tag: t }] : t && typeof (t as { tag?: unknown }).tag === 'string' ? [pick((t as { tag: string }).tag, t)] : []));
  }
  if (tags && typeof tags === 'object') return Object.entries(tags).map(([tag, v]) => pick(tag, v));
  return [];
}

/**
 * The newest published tag of `pot` in the repository at `base` and its recorded
 * fingerprint and manifest. undefined when nothing is published yet.
 */
export async function readLastPublished(base: string, pot: string, fetcher: Fetcher = readRepositoryFile): Promise<LastPublished | undefined> {
  const indexText = await fetcher(join2(base, 'index.json'));
  if (indexText === undefined) return undefined;
  let index: unknown;
  try {
    index = JSON.parse(indexText);
  } catch {
    throw new Error(`${join2(base, 'index.json')} is not JSON`);
  }
  const entries = tagEntries(index, pot).filter((e) => semver.valid(e.tag));
  if (entries.length === 0) return undefined;
  const newest = entries.sort((a, b) => semver.rcompare(a.tag, b.tag))[0]!;
  const name = newest.packages ?? `${pot}_${newest.tag}.packages.json`;
  const manifestUrl = /^[a-z]+:\/\//.test(name) ? name : join2(base, name);
  let manifest: PackagesManifest | undefined;
  const text = await fetcher(manifestUrl);
  if (text !== undefined) {
    try {
      manifest = JSON.parse(text) as PackagesManifest;
    } catch {
      manifest = undefined;
    }
  }
  return { tag: newest.tag, source: manifestUrl, fingerprint: newest.fingerprint ?? manifest?.inputs?.fingerprint, manifest };
}
