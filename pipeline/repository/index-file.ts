// index.json (for tools) and index.html (for people): every pot and tag in the repository.
import semver from 'semver';
import { UserError } from '../errors.js';

export const INDEX_FORMAT = 'pot-image-repository/1';

export interface IndexedFile {
  name: string;
  size: number;
}

export interface TagEntry {
  tag: string;
  files: {
    xz: IndexedFile;
    meta: IndexedFile;
    skein: IndexedFile;
    sig?: IndexedFile;
    /** The package manifest (issue 7), when it was published beside the image. */
    packages?: IndexedFile;
  };
  /** Skein-1024 of the .xz followed by the .meta (the content of the .skein file). */
  skein: string;
  signed: boolean;
  /** The signify key number (hex) from the .sig: which key signed it. */
  keyFingerprint: string | null;
  /** ISO time of the first publish of this tag. */
  published: string;
  freebsdRelease: string | null;
  imageVersion: string;
  /** The build inputs' fingerprint from the package manifest (issue 7's reuse check), when present. */
  inputsFingerprint?: string;
}

export interface RepositoryIndex {
  format: typeof INDEX_FORMAT;
  updated: string;
  pots: Record<string, { tags: Record<string, TagEntry> }>;
}

export function emptyIndex(): RepositoryIndex {
  return { format: INDEX_FORMAT, updated: new Date(0).toISOString(), pots: {} };
}

/** Refuses an unreadable index rather than replacing it (that would drop other publishers' entries). */
export function parseIndex(text: Buffer | null, where: string): RepositoryIndex {
  if (text === null) return emptyIndex();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.toString('utf8'));
  } catch {
    throw new UserError(`${where} is not valid JSON; repair or remove it (it is rebuilt only from what publish adds), then publish again`);
  }
  const index = parsed as Partial<RepositoryIndex>;
  if (!index || typeof index !== 'object' || index.format !== INDEX_FORMAT || !isObject(index.pots)) {
    throw new UserError(`${where} is not a pot-image repository index (format '${INDEX_FORMAT}'); publish to another location or remove it`);
  }
  // Every entry of every pot, before anything is uploaded: a damaged entry found only when the
  // index is rewritten would leave the new tag's files in place and every later publish failing.
  for (const [pot, value] of Object.entries(index.pots)) {
    const at = `pots[${JSON.stringify(pot)}]`;
    const problem = potProblem(pot, value, at);
    if (problem) {
      throw new UserError(`${where} is damaged: ${problem}; repair that entry (it must be what publish writes, see docs/publishing.md) or restore the file, then publish again`);
    }
  }
  return index as RepositoryIndex;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

function fileProblem(value: unknown, at: string, required: boolean): string | null {
  if (value === undefined) return required ? `${at} is missing` : null;
  if (!isObject(value)) return `${at} is not an object`;
  if (typeof value.name !== 'string' || !SEGMENT.test(value.name) || value.name.includes('..')) return `${at}.name is not a file name`;
  if (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0) return `${at}.size is not a byte count`;
  return null;
}

function entryProblem(tag: string, entry: unknown, at: string): string | null {
  if (!isObject(entry)) return `${at} is not an object`;
  if (entry.tag !== tag) return `${at}.tag is ${JSON.stringify(entry.tag)}, not ${JSON.stringify(tag)}`;
  if (!isObject(entry.files)) return `${at}.files is missing`;
  for (const [name, required] of [['xz', true], ['meta', true], ['skein', true], ['sig', false], ['packages', false]] as const) {
    const problem = fileProblem(entry.files[name], `${at}.files.${name}`, required);
    if (problem) return problem;
  }
  if (typeof entry.skein !== 'string' || !/^[0-9a-f]{256}$/.test(entry.skein)) return `${at}.skein is not 256 hex digits`;
  if (typeof entry.signed !== 'boolean') return `${at}.signed is not true or false`;
  if (entry.keyFingerprint !== null && (typeof entry.keyFingerprint !== 'string' || !/^[0-9a-f]{16}$/.test(entry.keyFingerprint))) return `${at}.keyFingerprint is not null or 16 hex digits`;
  if (typeof entry.published !== 'string' || !Number.isFinite(Date.parse(entry.published))) return `${at}.published is not a time`;
  if (entry.freebsdRelease !== null && typeof entry.freebsdRelease !== 'string') return `${at}.freebsdRelease is not a string or null`;
  if (typeof entry.imageVersion !== 'string') return `${at}.imageVersion is not a string`;
  if (entry.inputsFingerprint !== undefined && typeof entry.inputsFingerprint !== 'string') return `${at}.inputsFingerprint is not a string`;
  return null;
}

function potProblem(pot: string, value: unknown, at: string): string | null {
  if (!SEGMENT.test(pot) || pot.includes('..')) return `${at} is not a pot name`;
  if (!isObject(value)) return `${at} is not an object`;
  if (!isObject(value.tags)) return `${at}.tags is not an object of tags`;
  for (const [tag, entry] of Object.entries(value.tags)) {
    const problem = SEGMENT.test(tag) && !tag.includes('..') ? entryProblem(tag, entry, `${at}.tags[${JSON.stringify(tag)}]`) : `${at}.tags[${JSON.stringify(tag)}] is not a tag`;
    if (problem) return problem;
  }
  return null;
}

export function tagsOf(index: RepositoryIndex, pot: string): string[] {
  return Object.keys(index.pots[pot]?.tags ?? {});
}

/** Add (or keep) an entry: a tag already listed keeps its first publish time. */
export function withEntry(index: RepositoryIndex, pot: string, entry: TagEntry, now = new Date()): RepositoryIndex {
  const pots = { ...index.pots };
  const tags = { ...(pots[pot]?.tags ?? {}) };
  const previous = tags[entry.tag];
  tags[entry.tag] = previous ? { ...entry, published: previous.published } : entry;
  pots[pot] = { tags };
  return { format: INDEX_FORMAT, updated: now.toISOString(), pots };
}

function byVersionDescending(a: string, b: string): number {
  if (semver.valid(a) && semver.valid(b)) return semver.rcompare(a, b);
  return b.localeCompare(a);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function size(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function renderIndexHtml(index: RepositoryIndex): string {
  const out = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>pot image repository</title>',
    '<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left}code{font-size:.85em}</style>',
    '</head><body>',
    '<h1>pot image repository</h1>',
    `<p>Import with <code>pot import -p POT -t TAG -U &lt;this URL&gt;</code>, or set <code>image</code> to this URL in a Nomad job. Machine-readable: <a href="index.json">index.json</a>. Updated ${escapeHtml(index.updated)}.</p>`,
  ];
  for (const pot of Object.keys(index.pots).sort()) {
    out.push(`<h2>${escapeHtml(pot)}</h2>`, '<table>', '<tr><th>tag</th><th>files</th><th>size</th><th>signed</th><th>FreeBSD</th><th>published</th><th>Skein-1024</th></tr>');
    const tags = index.pots[pot]!.tags;
    for (const tag of Object.keys(tags).sort(byVersionDescending)) {
      const e = tags[tag]!;
      const files = [e.files.xz, e.files.meta, e.files.skein, e.files.sig, e.files.packages]
        .filter((f): f is IndexedFile => f !== undefined)
        .map((f) => `<a href="${escapeHtml(encodeURIComponent(f.name))}">${escapeHtml(f.name.slice(pot.length + tag.length + 1) || f.name)}</a>`)
        .join(' ');
      out.push(
        `<tr><td>${escapeHtml(tag)}</td><td>${files}</td><td>${size(e.files.xz.size)}</td>` +
          `<td>${e.signed ? `yes (key ${escapeHtml(e.keyFingerprint ?? '?')})` : 'no'}</td>` +
          `<td>${escapeHtml(e.freebsdRelease ?? '')}</td><td>${escapeHtml(e.published)}</td>` +
          `<td><code title="${escapeHtml(e.skein)}">${escapeHtml(e.skein.slice(0, 16))}…</code></td></tr>`,
      );
    }
    out.push('</table>');
  }
  out.push('</body></html>', '');
  return out.join('\n');
}
