// A repository on a WebDAV server (nginx's dav module is the reference, see
// scripts/nginx-repository.conf): PUT to a temporary name, MOVE into place.
import { randomBytes } from 'node:crypto';
import { LocalReadError, forEachChunk } from './file-chunks.js';
import { UserError } from '../errors.js';
import { HttpClient, type Credentials, type HttpResponse, type RetryPolicy } from './http-client.js';
import type { LockOptions, RemoteStat, RepositoryTarget, Unlock, UploadSource } from './target.js';

// A collection: MKCOL is atomic on the server's filesystem (mkdir), and answers
// 405 when it exists. nginx ignores If-Match/If-None-Match on PUT, so ETags cannot guard the index.
const LOCK_DIR = '.index.lock/';
const LOCK_OWNER = '.index.lock/owner';

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class WebDavTarget implements RepositoryTarget {
  readonly location: string;
  private readonly base: URL;
  private readonly client: HttpClient;

  constructor(base: URL, credentials: Credentials, retry?: RetryPolicy, timeoutMs?: number) {
    this.base = new URL(base.href.endsWith('/') ? base.href : `${base.href}/`);
    this.location = HttpClient.show(this.base);
    this.client = new HttpClient(credentials, retry, timeoutMs, this.base.protocol === 'https:');
  }

  private url(name: string): URL {
    return new URL(name.split('/').map(encodeURIComponent).join('/'), this.base);
  }

  describe(name: string): string {
    return HttpClient.show(this.url(name));
  }

  private async send(method: string, name: string, doing: string, ok: number[], extra: Partial<Parameters<HttpClient['request']>[0]> = {}): Promise<HttpResponse> {
    const spec = { method, url: this.url(name), ...extra };
    const response = await this.client.request(spec);
    if (!ok.includes(response.status)) throw this.client.refused(spec, response, doing);
    return response;
  }

  async stat(name: string): Promise<RemoteStat | null> {
    const r = await this.send('HEAD', name, `checking ${name}`, [200, 404]);
    if (r.status === 404) return null;
    return { size: Number(r.headers['content-length'] ?? NaN) };
  }

  async read(name: string): Promise<Buffer | null> {
    const r = await this.send('GET', name, `reading ${name}`, [200, 404], { collect: true });
    return r.status === 404 ? null : r.body;
  }

  async readInto(name: string, consume: (chunk: Buffer) => void): Promise<boolean> {
    // A retried GET would feed the same bytes twice: read it in one attempt.
    const spec = { method: 'GET', url: this.url(name), once: true };
    let started = false;
    const r = await this.client.request({ ...spec, consume: (chunk) => { started = true; consume(chunk); } });
    if (started && r.status !== 200) throw new UserError(`reading ${this.describe(name)} failed midway; publish again`);
    if (r.status === 404) return false;
    if (r.status !== 200) throw this.client.refused(spec, r, `reading ${name}`);
    return true;
  }

  async upload(temporary: string, source: UploadSource): Promise<void> {
    await this.send('PUT', temporary, `uploading ${temporary}`, [200, 201, 204], {
      signal: source.signal,
      body: () => ({
        length: source.size,
        send: async (write) => {
          const observe = source.observe?.();
          let sent: number;
          try {
            sent = await forEachChunk(source.path, async (chunk) => {
              await observe?.(chunk);
              return { released: write(chunk) };
            }, source.signal);
          } catch (error) {
            // A failure to read the local file is not the server's: say so, and do not retry.
            if (error instanceof LocalReadError) throw new UserError(error.message);
            throw error;
          }
          if (sent !== source.size) throw new UserError(`${source.path} changed size while uploading (${sent} bytes, expected ${source.size}); publish again`);
        },
      }),
    });
  }

  async uploadBytes(temporary: string, data: Buffer): Promise<void> {
    await this.send('PUT', temporary, `uploading ${temporary}`, [200, 201, 204], { body: () => data });
  }

  private move(temporary: string, name: string, overwrite: boolean): Promise<HttpResponse> {
    return this.send('MOVE', temporary, `renaming ${temporary} to ${name}`, overwrite ? [201, 204] : [201, 204, 412], {
      headers: { destination: this.url(name).href, overwrite: overwrite ? 'T' : 'F' },
    });
  }

  async placeNew(temporary: string, name: string): Promise<boolean> {
    const r = await this.move(temporary, name, false);
    return r.status !== 412;
  }

  async replace(temporary: string, name: string): Promise<void> {
    await this.move(temporary, name, true);
  }

  async remove(name: string): Promise<void> {
    await this.send('DELETE', name, `deleting ${name}`, [200, 204, 404], name.endsWith('/') ? { headers: { depth: 'infinity' } } : {});
  }

  async lock(owner: string, options: LockOptions): Promise<Unlock> {
    const token = `${owner} ${randomBytes(6).toString('hex')}`;
    const started = Date.now();
    let delay = 20;
    let told = false;
    let ownerMissingSince: number | undefined;
    for (;;) {
      const made = await this.send('MKCOL', LOCK_DIR, 'taking the index lock', [201, 405]);
      if (made.status === 201) {
        await this.send('PUT', LOCK_OWNER, 'taking the index lock', [200, 201, 204], { body: () => Buffer.from(`${token}\n`) });
        break;
      }
      // Held: how old is it, by the server's own clock?
      const held = await this.send('HEAD', LOCK_OWNER, 'checking the index lock', [200, 404]);
      let age = 0;
      if (held.status === 200) {
        ownerMissingSince = undefined;
        const modified = Date.parse(String(held.headers['last-modified'] ?? ''));
        const now = Date.parse(String(held.headers.date ?? '')) || Date.now();
        age = Number.isFinite(modified) ? now - modified : 0;
      } else {
        // The holder made the collection but has not written its owner file yet (or crashed in between).
        ownerMissingSince ??= Date.now();
        age = Date.now() - ownerMissingSince;
      }
      if (age > options.staleMs) {
        // Renaming the lock away succeeds for exactly one breaker.
        const aside = `.index.lock.stale-${randomBytes(6).toString('hex')}/`;
        const moved = await this.send('MOVE', LOCK_DIR, 'breaking a stale index lock', [201, 204, 404, 412], {
          headers: { destination: this.url(aside).href, overwrite: 'F', depth: 'infinity' },
        });
        if (moved.status === 201 || moved.status === 204) {
          await this.remove(aside);
          options.log?.(`broke a stale index lock (${Math.round(age / 1000)} s old) at ${this.describe(LOCK_DIR)}`);
        }
        ownerMissingSince = undefined;
        continue;
      }
      if (Date.now() - started > options.waitMs) {
        throw new UserError(`the repository index at ${this.location} stayed locked for ${Math.round(options.waitMs / 1000)} s by another publisher; if none is running, DELETE ${this.describe(LOCK_DIR)} and publish again`);
      }
      if (!told) {
        options.log?.(`waiting for another publisher's index lock at ${this.describe(LOCK_DIR)}`);
        told = true;
      }
      await wait(delay);
      delay = Math.min(delay * 2, 500);
    }
    return async () => {
      const current = await this.read(LOCK_OWNER).catch(() => null);
      if (current?.toString('utf8') === `${token}\n`) await this.remove(LOCK_DIR);
    };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
