// Reading the files of a published image from where a client would: an
// http(s) base URL, a file:// URL or a local folder. Bodies are streamed (an
// image can be many GiB), stalled transfers time out, and network errors,
// HTTP 5xx and 429 are retried a bounded number of times; an interrupted
// download resumes with a Range request when the server supports it.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { resolve as resolvePath, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { InputError } from '../errors.js';
import { parseUrl, stripCredentials } from '../input/urls.js';
import { fileChunks } from './file-chunks.js';
import { garbagePacer } from './garbage-pacer.js';
import { TransferFloor } from './transfer-floor.js';

export interface FetchPolicy {
  /** A transfer that delivers no bytes for this long fails (ms). */
  timeoutMs: number;
  /** Extra attempts after the first, for retryable failures. */
  retries: number;
  /** First back-off delay (ms), doubled each retry. */
  retryDelayMs: number;
}

export const DEFAULT_POLICY: FetchPolicy = { timeoutMs: 30_000, retries: 2, retryDelayMs: 500 };

/** The file is not there (HTTP 4xx or no such local file). */
export class MissingFile extends Error {
  constructor(readonly location: string, readonly status: number | undefined, detail: string) {
    super(`missing ${location} (${detail})`);
  }
}

/** The file could not be read even after retrying. */
export class FetchFailed extends Error {
  constructor(readonly location: string, readonly status: number | undefined, detail: string, attempts: number) {
    super(`cannot fetch ${location}: ${detail}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`);
  }
}

export interface ImageLocation {
  /** URL or path of `name` inside the base, as shown to the user. */
  locate(name: string): string;
  /** Whole small file (<= maxBytes). Throws MissingFile / FetchFailed. */
  readSmall(name: string, maxBytes: number): Promise<Buffer>;
  /** Stream a (large) file into `sink`; on a retry after partial data, `restart()` is called when resuming is impossible. */
  stream(name: string, sink: StreamSink): Promise<void>;
}

export interface StreamSink {
  /** Bytes so far; used to resume. */
  received(): number;
  /** The chunk is only valid during the call. */
  write(chunk: Uint8Array): void;
  /** Forget everything received: the transfer starts again from byte 0. */
  restart(): void;
  /** Total size when known. */
  total?(bytes: number): void;
}

/** Base URL or folder → a location; InputError for anything else. */
export function imageLocation(base: string, policy: FetchPolicy = DEFAULT_POLICY): ImageLocation {
  if (/^https?:\/\//i.test(base)) return new HttpLocation(parseUrl(base, '--url', { schemes: ['http', 'https'] }), policy);
  if (/^file:\/\//i.test(base)) return new FolderLocation(fileURLToPath(base));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(base)) {
    throw new InputError(`unsupported base URL '${stripCredentials(base)}': use http://, https://, file:// or a local folder`);
  }
  if (base === '') throw new InputError('the base URL is empty: give http(s)://..., file://... or a folder');
  return new FolderLocation(resolvePath(base));
}

class FolderLocation implements ImageLocation {
  constructor(private readonly folder: string) {}

  locate(name: string): string {
    return join(this.folder, name);
  }

  private async open(name: string): Promise<{ path: string; size: number }> {
    const path = this.locate(name);
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new MissingFile(path, undefined, 'not a file');
      return { path, size: info.size };
    } catch (error) {
      if (error instanceof MissingFile) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new MissingFile(path, undefined, 'no such file');
      throw new FetchFailed(path, undefined, code ?? String(error), 1);
    }
  }

  async readSmall(name: string, maxBytes: number): Promise<Buffer> {
    const { path, size } = await this.open(name);
    if (size > maxBytes) throw new FetchFailed(path, undefined, `${size} bytes, more than the ${maxBytes} expected`, 1);
    const chunks: Buffer[] = [];
    for await (const chunk of createReadStream(path)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async stream(name: string, sink: StreamSink): Promise<void> {
    const { path, size } = await this.open(name);
    sink.total?.(size);
    for await (const chunk of fileChunks(path)) sink.write(chunk);
  }
}

/** `floor` must be told every chunk of `body` read (the throughput floor). */
interface HttpResponse { status: number; headers: http.IncomingHttpHeaders; body: http.IncomingMessage; url: string; floor: TransferFloor }

const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

function isRetryableError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && RETRYABLE_CODES.has(code);
}

function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

class HttpLocation implements ImageLocation {
  private readonly base: URL;

  constructor(base: URL, private readonly policy: FetchPolicy) {
    this.base = new URL(base.href.endsWith('/') ? base.href : `${base.href}/`);
  }

  locate(name: string): string {
    return new URL(encodeURIComponent(name), this.base).toString();
  }

  /** GET with redirects, an inactivity timeout on the socket and a throughput floor (bounded time). */
  private get(url: string, headers: Record<string, string>, redirects = 5): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const lib = url.startsWith('https:') ? https : http;
      let answer: http.IncomingMessage | undefined;
      // A body below the floor is not retried: a trickling server would only hold the client longer.
      const floor = new TransferFloor(this.policy.timeoutMs, (reason) => {
        if (answer) answer.destroy(new FetchFailed(url, answer.statusCode, reason, 1));
        // No answer (or only part of its headers) for a whole window: like silence, retried.
        else req.destroy(Object.assign(new Error(`no data for ${Number((this.policy.timeoutMs / 1000).toFixed(2))} s`), { code: 'ETIMEDOUT' }));
      });
      const req = lib.get(url, { headers: { 'user-agent': 'pot-image-verify', ...headers } }, (res) => {
        answer = res;
        const length = Number(res.headers['content-length']);
        floor.begin(Number.isFinite(length) ? length : undefined);
        res.once('close', () => floor.stop());
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if ([301, 302, 303, 307, 308].includes(status) && location) {
          res.resume();
          if (redirects === 0) {
            reject(Object.assign(new Error('too many redirects'), { code: 'ETOOMANYREDIRECTS' }));
            return;
          }
          // A server's Location is input too: one that is not a URL (or not http/https) fails this fetch, with one line.
          let next: URL;
          try {
            next = new URL(location, url);
          } catch {
            reject(new FetchFailed(url, status, `redirected (HTTP ${status}) to '${stripCredentials(location).slice(0, 200)}', which is not a valid URL`, 1));
            return;
          }
          if (next.protocol !== 'http:' && next.protocol !== 'https:') {
            reject(new FetchFailed(url, status, `redirected (HTTP ${status}) to ${next.protocol}//, which is not http or https`, 1));
            return;
          }
          this.get(next.toString(), headers, redirects - 1).then(resolve, reject);
          return;
        }
        resolve({ status, headers: res.headers, body: res, url, floor });
      });
      floor.start();
      req.setTimeout(this.policy.timeoutMs, () => {
        req.destroy(Object.assign(new Error(`no data for ${Number((this.policy.timeoutMs / 1000).toFixed(2))} s`), { code: 'ETIMEDOUT' }));
      });
      req.on('error', (error) => {
        floor.stop();
        reject(error);
      });
    });
  }

  /** Run `attempt` with retries on network errors and retryable statuses. */
  private async withRetries<T>(location: string, attempt: (n: number) => Promise<T>): Promise<T> {
    let lastStatus: number | undefined;
    let lastDetail = '';
    const attempts = this.policy.retries + 1;
    for (let n = 0; n < attempts; n++) {
      if (n > 0) await delay(this.policy.retryDelayMs * 2 ** (n - 1));
      try {
        return await attempt(n);
      } catch (error) {
        if (error instanceof MissingFile || error instanceof FetchFailed) throw error;
        if (error instanceof RetryableStatus) {
          lastStatus = error.status;
          lastDetail = `HTTP ${error.status}`;
          continue;
        }
        if (isRetryableError(error)) {
          lastStatus = undefined;
          lastDetail = (error as Error).message || (error as NodeJS.ErrnoException).code!;
          continue;
        }
        const e = error as NodeJS.ErrnoException;
        throw new FetchFailed(location, undefined, e.code ? `${e.code}: ${e.message}` : e.message, n + 1);
      }
    }
    throw new FetchFailed(location, lastStatus, lastDetail, attempts);
  }

  private checkStatus(res: HttpResponse, location: string, okStatuses: number[]): void {
    if (okStatuses.includes(res.status)) return;
    res.body.resume();
    if (isRetryableStatus(res.status)) throw new RetryableStatus(res.status);
    if (res.status >= 400) throw new MissingFile(location, res.status, `HTTP ${res.status}`);
    throw new FetchFailed(location, res.status, `unexpected HTTP ${res.status}`, 1);
  }

  async readSmall(name: string, maxBytes: number): Promise<Buffer> {
    const location = this.locate(name);
    return this.withRetries(location, async () => {
      const res = await this.get(location, {});
      this.checkStatus(res, location, [200]);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        res.floor.add((chunk as Buffer).length);
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          res.body.destroy();
          throw new FetchFailed(location, res.status, `more than the ${maxBytes} bytes expected`, 1);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    });
  }

  async stream(name: string, sink: StreamSink): Promise<void> {
    const location = this.locate(name);
    let validator: string | undefined; // ETag or Last-Modified of the first response
    await this.withRetries(location, async () => {
      const from = sink.received();
      // Resume only if the file is unchanged (If-Range); otherwise the server sends all of it again.
      const headers: Record<string, string> = from > 0 && validator ? { range: `bytes=${from}-`, 'if-range': validator } : {};
      if (from > 0 && !validator) sink.restart();
      const res = await this.get(location, headers);
      this.checkStatus(res, location, [200, 206]);
      validator ??= (res.headers.etag ?? res.headers['last-modified']) as string | undefined;
      if (res.status === 200 && sink.received() > 0) sink.restart(); // no range (or the file changed): start over
      const length = Number(res.headers['content-length']);
      if (Number.isFinite(length)) sink.total?.((res.status === 206 ? from : 0) + length);
      const pace = garbagePacer();
      for await (const chunk of res.body) {
        res.floor.add((chunk as Buffer).length);
        sink.write(chunk as Buffer);
        pace((chunk as Buffer).length);
      }
      if (!res.body.complete) {
        throw Object.assign(new Error('connection closed before the end of the file'), { code: 'ECONNRESET' });
      }
    });
  }
}

class RetryableStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}
