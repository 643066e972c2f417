// Reads image/image.yaml, applies command-line overrides and validates every
// field. Each problem is an InputError (exit 2) naming field, value and what is allowed.
import { parseBuilder } from '../builder/ssh-target.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { isScalar, parseDocument, visit, type Document } from 'yaml';
import semver from 'semver';
import { InputError, oneLine } from '../errors.js';
import { parseUrl } from '../input/urls.js';
import { parseTarget } from '../repository/open-target.js';
import { checkDefinitionKeys } from './keys.js';
import { parseRelease, potName } from './pot-name.js';
import { ARCHES, POT_NETWORKS, type DefinitionOverrides, type ImageDefinition, type PotNetwork } from './types.js';

export const DEFAULT_DEFINITION = 'image/image.yaml';
const FLAVOUR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Chain entries may carry potluck's +N suffix (X+1 ... X+4). */
const CHAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\+[0-9]+)?$/;

/**
 * Parse YAML keeping numbers as written: `release: 13.0` must stay "13.0"
 * (not 13) and `version: 1.10` must be reported as '1.10', not 1.1.
 */
export function parseDefinitionYaml(text: string): unknown {
  return definitionDocument(text).toJS();
}

function definitionDocument(text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(doc.errors[0]!.message);
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && typeof node.value === 'number' && typeof node.source === 'string') node.value = node.source;
    },
  });
  return doc;
}

/** The project root: the nearest folder above `from` holding package.json. */
export function findProjectRoot(from = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'image'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(from);
    dir = up;
  }
}

type Raw = Record<string, unknown>;

/** The file as the user would type it: relative to where they are when that is shorter. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** A mapping section; with `known`, a misspelt field (e.g. freebsd.relase) is an error, not silently ignored. */
function section(raw: Raw, key: string, known?: readonly string[]): Raw {
  const v = raw[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new InputError(`${key}: expected a mapping of fields, got '${String(v)}'`);
  }
  for (const field of Object.keys(v)) {
    if (known && !known.includes(field)) {
      throw new InputError(`${key}.${field}: unknown field; ${key} takes ${known.join(', ')}`);
    }
  }
  return v as Raw;
}

function str(value: unknown, field: string, fallback?: string): string {
  if (value === undefined || value === null || value === '') {
    if (fallback !== undefined) return fallback;
    throw new InputError(`${field}: missing; set it in the image definition`);
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new InputError(`${field}: '${JSON.stringify(value)}' is not a string`);
  }
  return String(value);
}

function optional(value: unknown, field: string): string | undefined {
  const s = str(value, field, '');
  return s === '' ? undefined : s;
}

function stringList(value: unknown, field: string, fallback: string[]): string[] {
  if (value === undefined || value === null) return fallback;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new InputError(`${field}: expected a list of flavour names, got '${JSON.stringify(value)}'`);
  }
  return value as string[];
}

/** X, X+1..X+3 where the command file or script exists, X+4 last (it sets the start command). */
export function resolveChain(flavour: string, sourceDir: string, declared: unknown): string[] {
  const exists = (name: string) => existsSync(join(sourceDir, name)) || existsSync(join(sourceDir, `${name}.sh`));
  let chain: string[];
  if (declared === undefined || declared === null || declared === 'auto') {
    chain = [flavour, `${flavour}+1`, `${flavour}+2`, `${flavour}+3`, `${flavour}+4`].filter(
      (name, i) => i === 0 || i === 4 || exists(name),
    );
  } else {
    chain = stringList(declared, 'flavours.chain', []);
  }
  for (const name of chain) {
    if (!CHAIN_NAME.test(name)) {
      throw new InputError(`flavours.chain: '${name}' is not a valid flavour name; use letters, digits, '.', '_', '-' and an optional +N suffix`);
    }
    if (!exists(name)) {
      throw new InputError(`flavours.chain: flavour file '${join(sourceDir, name)}' (or '${name}.sh') is missing; add it or remove '${name}' from the chain`);
    }
  }
  const last = chain[chain.length - 1];
  if (last !== `${flavour}+4`) {
    throw new InputError(`flavours.chain: the last flavour must be '${flavour}+4' (it sets the start command), got '${last ?? ''}'`);
  }
  return chain;
}

/** The definition for one release: `overrides.release`, else the first of the definition's releases. */
export function loadDefinition(file: string = DEFAULT_DEFINITION, overrides: DefinitionOverrides = {}, root?: string, text?: string): ImageDefinition {
  return loadDefinitions(file, overrides, root, text)[0]!;
}

/** The list under freebsd.releases (or the single freebsd.release), each entry validated. */
function releaseList(fbsd: Raw): string[] {
  if (fbsd.release !== undefined && fbsd.releases !== undefined) {
    throw new InputError('freebsd: set either release or releases, not both (releases: ["14.5", "15.1"] builds one image per release)');
  }
  if (fbsd.releases === undefined || fbsd.releases === null) return [str(fbsd.release, 'freebsd.release', '14.5')];
  const list = fbsd.releases;
  if (!Array.isArray(list) || list.length === 0 || list.some((r) => typeof r !== 'string' && typeof r !== 'number')) {
    throw new InputError(`freebsd.releases: expected a non-empty list of releases (e.g. ["14.5", "15.1"]), got '${JSON.stringify(list)}'`);
  }
  return list.map(String);
}

/** freebsd.allow_eol: [{release, reason}]: end-of-life releases the maintainers still build, and why. */
function eolAllowances(value: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (value === undefined || value === null) return out;
  if (!Array.isArray(value)) throw new InputError(`freebsd.allow_eol: expected a list of {release, reason}, got '${JSON.stringify(value)}'`);
  value.forEach((item, i) => {
    const f = `freebsd.allow_eol[${i}]`;
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw new InputError(`${f}: expected {release, reason}, got '${JSON.stringify(item)}'`);
    const entry = item as Raw;
    for (const k of Object.keys(entry)) if (k !== 'release' && k !== 'reason') throw new InputError(`${f}.${k}: unknown field; allow_eol entries take release, reason`);
    const release = parseRelease(str(entry.release, `${f}.release`), `${f}.release`).potRelease;
    const reason = str(entry.reason, `${f}.reason`).trim();
    if (reason.length < 10) throw new InputError(`${f}.reason: '${reason}' is too short; say why this end-of-life release must still be built (who needs it)`);
    out.set(release, reason);
  });
  return out;
}

/**
 * One definition per release: the definition's `releases` or, when given, the repeated --release.
 * `text`: the file's content when the caller has read it already (the CLI reads it asynchronously).
 */
export function loadDefinitions(file: string = DEFAULT_DEFINITION, overrides: DefinitionOverrides = {}, root?: string, text?: string): ImageDefinition[] {
  const projectRoot = root ?? findProjectRoot();
  const path = isAbsolute(file) ? file : resolve(projectRoot, file);
  if (!existsSync(path)) {
    throw new InputError(`image definition '${path}' does not exist; pass --definition FILE or run from the project folder`);
  }
  let raw: Raw;
  let doc: Document;
  if (text === undefined) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new InputError(`cannot read the image definition '${path}' (${(error as NodeJS.ErrnoException).code ?? oneLine(error)}); pass --definition FILE`);
    }
  }
  try {
    doc = definitionDocument(text);
    const parsed = doc.toJS() as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a mapping');
    raw = parsed as Raw;
  } catch (error) {
    throw new InputError(`image definition '${path}' is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  // Before any field is read: a misspelt key (sing:, publsh:, freebsd.relase) is refused, never ignored.
  checkDefinitionKeys(doc, text, shownPath(path));

  const flavour = str(raw.flavour, 'flavour');
  if (!FLAVOUR_NAME.test(flavour)) {
    throw new InputError(`flavour: '${flavour}' is not a valid flavour name; use letters, digits, '.', '_' and '-'`);
  }

  const version = overrides.version ?? str(raw.version, 'version');
  if (semver.valid(version) !== version) {
    throw new InputError(`${overrides.version !== undefined ? '--tag' : 'version'}: '${version}' is not a semantic version; use MAJOR.MINOR.PATCH (e.g. 0.11.0)`);
  }

  const fbsd = section(raw, 'freebsd', ['release', 'releases', 'arch', 'allow_eol']);
  const cliReleases = overrides.releases?.length ? overrides.releases : overrides.release !== undefined ? [overrides.release] : undefined;
  const releases = (cliReleases ?? releaseList(fbsd)).map((r) => ({
    text: r,
    parsed: parseRelease(r, cliReleases ? '--release' : fbsd.releases !== undefined ? 'freebsd.releases' : 'freebsd.release'),
  }));
  const seen = new Set<string>();
  for (const r of releases) {
    if (seen.has(r.parsed.potRelease)) throw new InputError(`${cliReleases ? '--release' : 'freebsd.releases'}: ${r.parsed.potRelease} is listed twice; each release builds one image`);
    seen.add(r.parsed.potRelease);
  }
  const allowed = eolAllowances(fbsd.allow_eol);
  if (overrides.allowEol !== undefined && overrides.allowEol.trim().length < 10) {
    throw new InputError(`--allow-eol: '${overrides.allowEol}' is too short; give the reason this end-of-life release must still be built (e.g. --allow-eol "jobs on 13.x clients still reference the 13_0 image")`);
  }
  const arch = overrides.arch ?? str(fbsd.arch, 'freebsd.arch', 'amd64');
  if (!(ARCHES as readonly string[]).includes(arch)) {
    throw new InputError(`${overrides.arch !== undefined ? '--arch' : 'freebsd.arch'}: '${arch}' is not supported; use one of ${ARCHES.join(', ')}`);
  }

  const flv = section(raw, 'flavours', ['source', 'install_dir', 'before', 'chain']);
  const sourceRel = overrides.flavourDir ?? str(flv.source, 'flavours.source', 'flavours');
  const source = resolve(projectRoot, sourceRel);
  if (!existsSync(source) || !statSync(source).isDirectory()) {
    throw new InputError(`flavours.source: folder '${source}' does not exist; point it at the folder holding the flavour files`);
  }
  if (!existsSync(join(source, flavour)) && !existsSync(join(source, `${flavour}.sh`))) {
    throw new InputError(`flavour: unknown flavour '${flavour}': neither '${join(source, flavour)}' nor '${flavour}.sh' exists in ${source}`);
  }
  const installDir = overrides.installDir ?? str(flv.install_dir, 'flavours.install_dir', '/usr/local/etc/pot/flavours');
  if (!isAbsolute(installDir)) {
    throw new InputError(`flavours.install_dir: '${installDir}' must be an absolute path (pot's flavour folder, e.g. /usr/local/etc/pot/flavours)`);
  }
  const before = stringList(flv.before, 'flavours.before', ['fbsd-update']);
  const chain = resolveChain(flavour, source, flv.chain);

  const pot = section(raw, 'pot', ['network']);
  const network = overrides.network ?? str(pot.network, 'pot.network', 'public-bridge');
  if (network === 'alias' || network === 'private-bridge') {
    throw new InputError(`pot.network: '${network}' needs ${network === 'alias' ? 'a host address (pot create -i)' : 'a bridge (pot create -B)'}, which the build does not pass; use ${POT_NETWORKS.join(' or ')}`);
  }
  if (!(POT_NETWORKS as readonly string[]).includes(network)) {
    throw new InputError(`pot.network: '${network}' is not a pot network type; use ${POT_NETWORKS.join(' or ')}`);
  }

  const exp = section(raw, 'export', ['compression', 'output']);
  const levelText = overrides.compression ?? str(exp.compression, 'export.compression', '6');
  if (!/^[0-9]$/.test(levelText)) {
    throw new InputError(`export.compression: '${levelText}' is not an xz level; use a whole number from 0 to 9`);
  }
  const output = resolve(projectRoot, overrides.output ?? str(exp.output, 'export.output', 'out'));

  const sign = section(raw, 'sign');
  const signKey = overrides.signKey ?? optional(sign.key, 'sign.key');
  const publicKey = overrides.publicKey ?? optional(sign.public_key, 'sign.public_key');

  const pub = section(raw, 'publish');
  const publishTo = overrides.publishTo ?? optional(pub.to, 'publish.to');
  const publicUrl = overrides.publicUrl ?? optional(pub.public_url, 'publish.public_url');
  // Both are printed (plan, logs): the shared URL parser refuses credentials in them (exit 2).
  if (publicUrl !== undefined) parseUrl(publicUrl, overrides.publicUrl !== undefined ? '--public-url' : 'publish.public_url', { schemes: ['http', 'https', 'file'] });
  if (publishTo !== undefined && /^https?:\/\//i.test(publishTo)) parseTarget(publishTo, overrides.publishTo !== undefined ? '--to' : 'publish.to');

  const builderText = overrides.builder ?? optional(raw.builder, 'builder');
  const builder = parseBuilder(builderText, overrides.builder !== undefined ? '--builder' : 'builder');

  return releases.map(({ text: release, parsed: parsedRelease }) => ({
    file: path,
    root: projectRoot,
    flavour,
    version,
    freebsd: {
      release,
      potRelease: parsedRelease.potRelease,
      major: parsedRelease.major,
      minor: parsedRelease.minor,
      arch: arch as ImageDefinition['freebsd']['arch'],
      requested: cliReleases ? 'explicit' as const : 'default' as const,
      eolAllowance: overrides.allowEol?.trim() || allowed.get(parsedRelease.potRelease),
    },
    flavours: { source, installDir, before, chain },
    pot: { network: network as PotNetwork },
    export: { compression: Number(levelText), output },
    sign: {
      key: signKey ? resolve(projectRoot, signKey) : undefined,
      publicKey: publicKey ? resolve(projectRoot, publicKey) : undefined,
    },
    publish: {
      to: publishTo && !/^[a-z]+:\/\//.test(publishTo) ? resolve(projectRoot, publishTo) : publishTo,
      publicUrl,
    },
    ...(builder ? { builder } : {}),
    potName: potName(flavour, arch, parsedRelease),
    tag: version,
    ...(overrides.version !== undefined ? { versionSource: '--tag' } : {}),
  }));
}
