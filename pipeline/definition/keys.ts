// Every key image/image.yaml may hold, in one declarative tree. A key that is
// not here is refused before anything else is read, with the nearest valid
// name suggested: a typo such as `sing:` must never silently build unsigned.
// Adding a setting to the definition = one line here (plus its parser).
import { isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import { InputError } from '../errors.js';

/** A scalar or a list of scalars: its keys are not checked here (its parser checks the value). */
export const VALUE = 'value' as const;
/** A list whose items are mappings with these keys. */
export interface ListOf { listOf: KeyTree }
export type KeySpec = typeof VALUE | KeyTree | ListOf;
export interface KeyTree { readonly [key: string]: KeySpec }

export const listOf = (tree: KeyTree): ListOf => ({ listOf: tree });

export const DEFINITION_KEYS: KeyTree = {
  flavour: VALUE,
  version: VALUE,
  freebsd: { release: VALUE, releases: VALUE, arch: VALUE, allow_eol: listOf({ release: VALUE, reason: VALUE }) },
  flavours: { source: VALUE, install_dir: VALUE, before: VALUE, chain: VALUE },
  pot: { network: VALUE },
  export: { compression: VALUE, output: VALUE },
  sign: { key: VALUE, public_key: VALUE },
  publish: { to: VALUE, public_url: VALUE },
  acceptance: {
    smoke_test: {
      timeout_seconds: VALUE, domain: VALUE, alert_email: VALUE, ip: VALUE, url: VALUE, ssh: VALUE,
      postgresql: { host: VALUE, port: VALUE, name: VALUE, user: VALUE, sslmode: VALUE, password_env: VALUE },
    },
    audit_allow: listOf({ package: VALUE, id: VALUE, reason: VALUE, expires: VALUE }),
  },
};

/** Edit distance (insert, delete, substitute, swap of neighbours), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `names` to `given`, when close enough to be a plausible typo. */
export function nearestName(given: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = given.toLowerCase();
  for (const name of names) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance < bestDistance) { best = name; bestDistance = distance; }
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(given.length / 3))) return best;
  // A shortened name (smoke for smoke_test, timeout for timeout_seconds).
  return lower.length >= 3 ? names.find((name) => name.toLowerCase().startsWith(lower)) : undefined;
}

/** Every dotted path of the tree whose last part is `key` (for a key put at the wrong level). */
function pathsEndingIn(key: string, tree: KeyTree, prefix = ''): string[] {
  const found: string[] = [];
  for (const [name, spec] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (name === key) found.push(path);
    if (spec === VALUE) continue;
    const sub = 'listOf' in spec ? (spec as ListOf).listOf : (spec as KeyTree);
    found.push(...pathsEndingIn(key, sub, 'listOf' in spec ? `${path}[]` : path));
  }
  return found;
}

/** One line: the unknown key, where it is, the suggestion, and the keys allowed there. */
export function unknownKeyMessage(field: string, key: string, allowed: readonly string[], elsewhere: string[] = []): string {
  const near = nearestName(key, allowed);
  const hint = near !== undefined
    ? `did you mean '${near}'?`
    : elsewhere.length > 0 ? `it belongs under ${elsewhere.map((p) => `'${p}'`).join(' or ')}` : 'remove it';
  const where = field ? `${field} takes` : 'the top level takes';
  return `${field ? `${field}.` : ''}${key}: unknown key; ${hint} (${where} ${allowed.join(', ')})`;
}

function lineOf(node: Node | null | undefined, lineStarts: number[]): number | undefined {
  const offset = node?.range?.[0];
  if (offset === undefined) return undefined;
  let line = 0;
  while (line + 1 < lineStarts.length && lineStarts[line + 1]! <= offset) line++;
  return line + 1;
}

/**
 * Refuse any key of the parsed document that DEFINITION_KEYS does not list,
 * at every level. `name` prefixes the message (the file), with the line number.
 */
export function checkDefinitionKeys(doc: Document, source: string, name: string, tree: KeyTree = DEFINITION_KEYS): void {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);
  const walk = (node: unknown, spec: KeyTree, field: string): void => {
    if (!isMap(node)) return; // not a mapping: the field's own parser says what it expects
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const sub = spec[key];
      if (sub === undefined) {
        const line = lineOf(keyNode, lineStarts);
        const elsewhere = pathsEndingIn(key, tree).filter((p) => p !== (field ? `${field}.${key}` : key));
        throw new InputError(`${name}${line ? ` line ${line}` : ''}: ${unknownKeyMessage(field, key, Object.keys(spec), elsewhere)}`);
      }
      const path = field ? `${field}.${key}` : key;
      if (sub === VALUE) continue;
      if ('listOf' in sub) {
        const items = isSeq(pair.value) ? pair.value.items : [];
        items.forEach((item, i) => walk(item, (sub as ListOf).listOf, `${path}[${i}]`));
      } else {
        walk(pair.value, sub as KeyTree, path);
      }
    }
  };
  walk(doc.contents, tree, '');
}
