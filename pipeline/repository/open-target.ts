// Turn --to (or publish.to) into a repository target, before any I/O.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { parseUrl, stripCredentials } from '../input/urls.js';
import { FolderTarget } from './folder-target.js';
import { credentialsFromEnv, type RetryPolicy } from './http-client.js';
import type { RepositoryTarget } from './target.js';
import { WebDavTarget } from './webdav-target.js';

export type TargetSpec = { kind: 'folder'; path: string } | { kind: 'webdav'; url: URL };

/** A folder path, a file:// URL or an http(s):// WebDAV URL; credentials never in the URL. */
export function parseTarget(to: string, option = '--to'): TargetSpec {
  if (to.includes('\0')) throw new InputError(`${option}: the repository location contains a NUL byte`);
  if (/^file:/i.test(to)) {
    try {
      return { kind: 'folder', path: fileURLToPath(to) };
    } catch {
      throw new InputError(`${option}: '${stripCredentials(to)}' is not a usable file:// URL; use file:///absolute/path or a plain folder path`);
    }
  }
  if (/^https?:\/\//i.test(to)) return { kind: 'webdav', url: parseUrl(to, option, { schemes: ['http', 'https'] }) };
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(to)) {
    throw new InputError(`${option}: '${stripCredentials(to)}' uses an unsupported scheme; use a folder, file://, http:// or https://`);
  }
  return { kind: 'folder', path: resolve(to) };
}

/** `timeoutMs`: the window of the WebDAV client's idle timeout and throughput floor. */
export function openTarget(spec: TargetSpec, env: NodeJS.ProcessEnv = process.env, retry?: RetryPolicy, timeoutMs?: number): RepositoryTarget {
  return spec.kind === 'folder' ? new FolderTarget(spec.path) : new WebDavTarget(spec.url, credentialsFromEnv(env), retry, timeoutMs);
}
