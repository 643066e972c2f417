// A small HTTP client for the WebDAV target: credentials from the environment,
// bounded retries with backoff for 5xx and dropped connections (never for 4xx),
// and one-line errors that name the URL but never the credentials.
import http from 'node:http';
import https from 'node:https';
import { UserError, oneLine } from '../errors.js';
import { TransferFloor } from '../artifacts/transfer-floor.js';
import { showUrl } from '../input/urls.js';
import { redact } from '../runner/redact.js';

export const CREDENTIAL_VARIABLES = 'POT_IMAGE_REPO_USER and POT_IMAGE_REPO_PASSWORD, or POT_IMAGE_REPO_TOKEN';

export interface RetryPolicy {
  /** Attempts in all (1 = no retry). */
  attempts: number;
  /** Delay before the first retry; doubles each time. */
  baseDelayMs: number;
}

/** The window of the idle timeout and the throughput floor (publish --timeout). */
export const DEFAULT_TIMEOUT_MS = 60_000;

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250 };

export interface Credentials {
  header?: string;
  /** For the 401 message: what was sent. */
  kind: 'none' | 'basic' | 'bearer';
  /** Values to keep out of every message. */
  secrets: string[];
}

/** Basic auth from POT_IMAGE_REPO_USER/PASSWORD, else a bearer token from POT_IMAGE_REPO_TOKEN. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials {
  const user = env.POT_IMAGE_REPO_USER;
  const password = env.POT_IMAGE_REPO_PASSWORD;
  const token = env.POT_IMAGE_REPO_TOKEN;
  // They become a header line: a control character would end it (named, never shown).
  for (const [name, value] of [['POT_IMAGE_REPO_USER', user], ['POT_IMAGE_REPO_PASSWORD', password], ['POT_IMAGE_REPO_TOKEN', token]] as const) {
    if (value !== undefined && /[\x00-\x1f\x7f]/.test(value)) throw new UserError(`${name} contains a line break or another control character; set it to the credential alone`, 2);
  }
  if (user) {
    if (password === undefined) {
      throw new UserError('POT_IMAGE_REPO_USER is set but POT_IMAGE_REPO_PASSWORD is not; set both for basic auth, or POT_IMAGE_REPO_TOKEN for a bearer token', 2);
    }
    return { kind: 'basic', header: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, secrets: [password, Buffer.from(`${user}:${password}`).toString('base64')] };
  }
  if (token) return { kind: 'bearer', header: `Bearer ${token}`, secrets: [token] };
  return { kind: 'none', secrets: [] };
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestSpec {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** A fresh body for every attempt: bytes, or a function writing `length` bytes into the request. */
  body?: () => { send: (write: (chunk: Buffer) => Promise<void>) => Promise<void>; length: number } | Buffer;
  /** Keep the response body in memory (small files only). */
  collect?: boolean;
  /** One attempt only (a retried streamed GET would feed the same bytes twice). */
  once?: boolean;
  /** Abandon the request (Ctrl-C): it fails with an AbortError, and is not retried. */
  signal?: AbortSignal;
  /** Stream the response body here instead (status 200 only). */
  consume?: (chunk: Buffer) => void;
}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

class ConnectionFailure extends Error {}

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class HttpClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly credentials: Credentials,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly idleTimeoutMs = DEFAULT_TIMEOUT_MS,
    secure = false,
  ) {
    this.agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 4 }) : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  /** The URL as shown in messages: never with user info. */
  static show(url: URL): string {
    return showUrl(url);
  }

  private clean(text: string): string {
    return redact(text, this.credentials.secrets);
  }

  /** Send a request, retrying 5xx answers and dropped connections with backoff. 4xx answers are returned. */
  async request(spec: RequestSpec): Promise<HttpResponse> {
    let lastProblem = '';
    const attempts = spec.once ? 1 : this.retry.attempts;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await wait(this.retry.baseDelayMs * 2 ** (attempt - 2));
      let response: HttpResponse;
      try {
        response = await this.once(spec);
      } catch (error) {
        if (!(error instanceof ConnectionFailure)) throw error;
        lastProblem = error.message;
        continue;
      }
      if (response.status >= 500) {
        lastProblem = `answered ${response.status} ${http.STATUS_CODES[response.status] ?? ''}`.trim();
        continue;
      }
      return response;
    }
    const where = HttpClient.show(spec.url);
    const tried = attempts > 1 ? ` (tried ${attempts} times)` : '';
    if (lastProblem.startsWith('answered')) {
      throw new UserError(this.clean(`the repository server ${lastProblem} to ${spec.method} ${where}${tried}; check the server's error log, then publish again`));
    }
    throw new UserError(this.clean(`cannot reach the repository at ${where}: ${lastProblem}${tried}; check the URL and that the server is running, then publish again`));
  }

  private once(spec: RequestSpec): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...spec.headers };
      if (this.credentials.header) headers.authorization = this.credentials.header;
      const body = spec.body?.();
      if (body) headers['content-length'] = body.length;
      else if (spec.method === 'PUT') headers['content-length'] = 0;
      const lib = spec.url.protocol === 'https:' ? https : http;
      let settled = false;
      // Bounded time: a server that trickles (one byte a second never trips the idle timeout) is cut off.
      let tooSlow: UserError | undefined;
      const floor = new TransferFloor(this.idleTimeoutMs, (reason) => {
        const error = tooSlow = new UserError(this.clean(`${spec.method} ${showUrl(spec.url)}: ${reason}; check the repository server and the network, then publish again (--timeout sets the window)`));
        (answer ?? req).destroy(error);
      });
      let answer: http.IncomingMessage | undefined;
      const fail = (cause: unknown) => {
        floor.stop();
        // However the abort surfaces (aborted, socket hang up), a transfer cut for being too slow says so.
        const error = tooSlow ?? cause;
        if (settled) return;
        settled = true;
        const errno = (error as NodeJS.ErrnoException).code;
        // Ctrl-C, or the local side of the body failed (already a message for the user): no retry.
        if ((error as Error).name === 'AbortError' || error instanceof UserError) {
          reject(error);
          return;
        }
        if ((errno && RETRYABLE_CODES.has(errno)) || /socket hang up|aborted|timed out/i.test(String((error as Error).message))) {
          reject(new ConnectionFailure(oneLine(error)));
        } else {
          reject(new UserError(this.clean(`cannot ${spec.method} ${HttpClient.show(spec.url)}: ${oneLine(error)}; check the repository URL`), 1, { cause: error }));
        }
      };
      if (spec.signal?.aborted) {
        floor.stop();
        settled = true;
        reject(new DOMException('This operation was aborted', 'AbortError'));
        return;
      }
      const req = lib.request(spec.url, { method: spec.method, headers, agent: this.agent }, (res) => {
        answer = res;
        const length = Number(res.headers['content-length']);
        floor.begin(Number.isFinite(length) ? length : undefined);
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          floor.add(chunk.length);
          if (status === 200 && spec.consume) spec.consume(chunk);
          else if (spec.collect || status >= 300) chunks.push(chunk);
        });
        res.on('end', () => {
          floor.stop();
          if (settled) return;
          settled = true;
          resolve({ status, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('the connection was closed mid-response (aborted)')));
      });
      const abort = () => req.destroy(new DOMException('This operation was aborted', 'AbortError'));
      spec.signal?.addEventListener('abort', abort, { once: true });
      req.once('close', () => spec.signal?.removeEventListener('abort', abort));
      req.setTimeout(this.idleTimeoutMs, () => req.destroy(Object.assign(new Error(`no answer for ${this.idleTimeoutMs / 1000} s (timed out)`), { code: 'ETIMEDOUT' })));
      floor.start();
      req.on('error', fail);
      req.once('close', () => { if (!answer) floor.stop(); });
      if (!body) req.end();
      else if (Buffer.isBuffer(body)) req.end(body, () => floor.awaitAnswer());
      else {
        // Each chunk's promise settles when it is flushed, or when the request closes
        // first (a write callback may never come then): the caller's buffer is free again.
        const pending = new Set<(error: Error) => void>();
        req.once('close', () => { for (const fail of pending) fail(new Error('the connection closed')); });
        const write = (chunk: Buffer) => new Promise<void>((done, failed) => {
          if (settled || req.destroyed) {
            failed(new Error('the connection closed'));
            return;
          }
          const fail = (error: Error) => { pending.delete(fail); failed(error); };
          pending.add(fail);
          req.write(chunk, (error) => {
            pending.delete(fail);
            if (error) failed(error);
            else {
              floor.add(chunk.length);
              done();
            }
          });
        });
        const sending = body.send(write);
        floor.begin(body.length);
        sending.then(() => { floor.awaitAnswer(); if (!settled) req.end(); }, (error) => req.destroy(error));
      }
    });
  }

  /** A one-line error for an answer that is not what the caller needed. */
  refused(spec: { method: string; url: URL }, response: HttpResponse, doing: string): UserError {
    const where = HttpClient.show(spec.url);
    const status = `${response.status} ${http.STATUS_CODES[response.status] ?? ''}`.trim();
    if (response.status === 401 || response.status === 403) {
      const sent = this.credentials.kind === 'none'
        ? `no credentials were given; set ${CREDENTIAL_VARIABLES}`
        : `the credentials from ${this.credentials.kind === 'basic' ? 'POT_IMAGE_REPO_USER/POT_IMAGE_REPO_PASSWORD' : 'POT_IMAGE_REPO_TOKEN'} were refused; set ${CREDENTIAL_VARIABLES} to an account allowed to publish`;
      return new UserError(this.clean(`the repository at ${where} answered ${status} to ${spec.method} while ${doing}: ${sent}`));
    }
    return new UserError(this.clean(`the repository at ${where} answered ${status} to ${spec.method} while ${doing}; check that the server accepts WebDAV PUT/MOVE/DELETE/MKCOL there (see scripts/nginx-repository.conf)`));
  }

  close(): void {
    this.agent.destroy();
  }
}
