// Input files and folders named on the command line: resolved against where the
// user is, and refused as bad input (exit 2, one line) when missing or unreadable,
// before any work starts.
import { constants } from 'node:fs';
import { access, mkdir, readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, isAbsolute, resolve } from 'node:path';
import { InputError, UserError } from '../errors.js';
import { DEFAULT_DEFINITION, findProjectRoot, loadDefinition } from '../definition/load.js';
import type { DefinitionOverrides, ImageDefinition } from '../definition/types.js';
import { stringArg, type ParsedArgs } from './command.js';

/**
 * Where the user is: `npm run pot-image` runs us in the project folder, and npm tells the
 * folder it was started from in INIT_CWD (only trusted when that script started us).
 */
export function userFolder(env: NodeJS.ProcessEnv = process.env): string {
  const viaScript = env.npm_lifecycle_event === 'pot-image' || env.npm_lifecycle_event === 'build-image';
  return viaScript && env.INIT_CWD ? env.INIT_CWD : process.cwd();
}

/** Paths given on the command line are relative to where the user is, not to the project. */
export function cliPath(value: string | undefined): string | undefined {
  // Absolute paths stay as written (messages name the file as the user spelled it).
  return value === undefined || value === '' || isAbsolute(value) ? value : resolve(userFolder(), value);
}

function why(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder';
  if (code === 'ENOTDIR') return 'a part of the path is not a folder';
  return code ?? String(error);
}

/** A readable regular file (or FIFO), else InputError naming the option and the file. */
export async function requireFile(path: string, what: string): Promise<string> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    await access(path, constants.R_OK);
  } catch (error) {
    throw new InputError(`${what} ${path}: ${why(error)}`);
  }
  return path;
}

/** An existing folder, else InputError. */
export async function requireFolder(path: string, what: string): Promise<string> {
  const info = await stat(path).catch((error: unknown) => { throw new InputError(`${what} ${path}: ${why(error)}`); });
  if (!info.isDirectory()) throw new InputError(`${what} ${path}: not a folder`);
  return path;
}

/** The text of the image definition (--definition or the project's), read asynchronously; a signal stops the read. */
export async function definitionText(args: ParsedArgs): Promise<string> {
  const given = cliPath(stringArg(args, 'definition'));
  const path = given ?? resolve(findProjectRoot(), DEFAULT_DEFINITION);
  const stopped = new Promise<never>((_, reject) => {
    const stop = () => reject(new UserError(`stopped while reading the image definition ${path}`));
    if (args.signal.aborted) stop(); else args.signal.addEventListener('abort', stop, { once: true });
  });
  stopped.catch(() => undefined);
  try {
    return await Promise.race([readFile(path, 'utf8'), stopped]);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new InputError(`image definition ${path}: ${why(error)}; ${given ? 'pass --definition FILE' : 'run from the project folder or pass --definition FILE'}`);
  }
}

/**
 * The image definition named by --definition (relative to the current folder) or the
 * project's image/image.yaml, read asynchronously so that a slow source leaves signals working.
 */
export async function definitionOf(args: ParsedArgs, overrides: DefinitionOverrides = {}): Promise<ImageDefinition> {
  const given = cliPath(stringArg(args, 'definition'));
  const root = findProjectRoot();
  const path = given ?? (isAbsolute(DEFAULT_DEFINITION) ? DEFAULT_DEFINITION : resolve(root, DEFAULT_DEFINITION));
  let text: string;
  try {
    // A signal while the file is still being read (a FIFO, a stalled mount) stops here.
    const stopped = new Promise<never>((_, reject) => {
      const stop = () => reject(new UserError(`stopped while reading the image definition ${path}`));
      if (args.signal.aborted) stop(); else args.signal.addEventListener('abort', stop, { once: true });
    });
    stopped.catch(() => undefined); // a signal after the read is main's business, not this promise's
    text = await Promise.race([readFile(path, 'utf8'), stopped]);
  } catch (error) {
    if (error instanceof UserError) throw error;
    const hint = given ? 'pass --definition FILE' : 'run from the project folder or pass --definition FILE';
    throw new InputError(`image definition ${path}: ${why(error)}; ${hint}`);
  }
  return loadDefinition(path, overrides, root, text);
}

/**
 * Where a folder repository (a path or file://) stands. A missing folder is made only when
 * its parent exists (a new repository beside others), never along a mistyped path: a missing
 * parent is refused unless `create` (--create) is given. URLs pass (the server answers).
 * `make`: create it now (publish); otherwise the caller only learns it will be created (build).
 */
export async function checkRepositoryFolder(to: string, create: boolean, make = true): Promise<'exists' | 'created' | 'will be created' | 'url'> {
  let path: string;
  if (/^file:\/\//i.test(to)) {
    try { path = fileURLToPath(to); } catch { return 'url'; } // the target parser names the problem
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(to)) {
    return 'url';
  } else {
    path = resolve(to);
  }
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory()) return 'exists';
  if (info) throw new InputError(`--to ${to}: not a folder; name the repository folder or a WebDAV URL`);
  const parent = await stat(dirname(path)).catch(() => null);
  if (!parent?.isDirectory() && !create) {
    throw new InputError(`--to ${to}: neither the folder nor its parent ${dirname(path)} exists; check the path, or pass --create to make it`);
  }
  if (!make) return 'will be created';
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    throw new InputError(`--to ${to}: cannot create the folder (${why(error)})`);
  }
  return 'created';
}
