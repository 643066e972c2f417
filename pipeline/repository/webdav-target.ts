// A repository on a WebDAV server (nginx's dav module is the reference, see
// scripts/nginx-repository.conf): PUT to a temporary name, MOVE into place.
import { LocalReadError, forEachChunk } from './file-chunks.js';
import { UserError } from '../errors.js';
import { HttpClient, type Credentials, type HttpResponse, type RetryPolicy } from './http-client.js';
import type { LockOptions, RemoteStat, RepositoryTarget, Unlock, UploadSource } from './target.js';
import { acquireLock, lockId, type LockStore } from './index-lock.js';

// A collection: MKCOL is atomic on the server's filesystem (mkdir), and answers
// 405 when it exists. nginx ignores If-Match/If-None-Match on PUT, so ETags cannot guard the index.
const LOCK_DIR = '.index.lock/';
const LOCK_OWNER = '.index.lock/owner';


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
    return this.send('MOVE', temporary, `renaming ${temporary} to ${name}`, overwrite ? [201, 204] : [201, 204, 404, 412], {
      headers: { destination: this.url(name).href, overwrite: overwrite ? 'T' : 'F' },
    });
  }

  async placeNew(temporary: string, name: string): Promise<'placed' | 'exists' | 'gone'> {
    const r = await this.move(temporary, name, false);
    return r.status === 412 ? 'exists' : r.status === 404 ? 'gone' : 'placed';
  }

  /** `.<name>.<content id>.part`: without a listing, the name is how a re-run finds a crashed run's
   *  temporary (and its own PUT simply replaces it with the same bytes). */
  temporaryName(name: string, contentId: string): string {
    return `.${name}.${contentId}.part`;
  }

  async removeLeftovers(name: string, contentId: string, staleMs: number): Promise<Array<{ name: string; removed: boolean }>> {
    const temp = this.temporaryName(name, contentId);
    const r = await this.send('HEAD', temp, `checking ${temp}`, [200, 404]);
    if (r.status === 404) return [];
    // A fresh one may be a publisher of the same bytes between its PUT and its MOVE: left alone
    // (this publish's own PUT of the same bytes replaces it, and its MOVE consumes it).
    const modified = Date.parse(String(r.headers['last-modified'] ?? ''));
    const now = Date.parse(String(r.headers.date ?? ''));
    if (!(Number.isFinite(modified) && Number.isFinite(now) && now - modified > staleMs)) return [{ name: temp, removed: false }];
    await this.remove(temp);
    return [{ name: temp, removed: true }];
  }

  async replace(temporary: string, name: string): Promise<void> {
    await this.move(temporary, name, true);
  }

  async remove(name: string): Promise<void> {
    await this.send('DELETE', name, `deleting ${name}`, [200, 204, 404], name.endsWith('/') ? { headers: { depth: 'infinity' } } : {});
  }

  /** The index lock (index-lock.ts): the collection `.index.lock/` (MKCOL is atomic) holding an `owner` file. */
  async lock(owner: string, options: LockOptions): Promise<Unlock> {
    return acquireLock(this.lockStore(), owner, options);
  }

  private lockStore(): LockStore {
    const age = (r: HttpResponse): number | undefined => {
      // By the server's own clock: publishers' clocks need not agree.
      const modified = Date.parse(String(r.headers['last-modified'] ?? ''));
      const now = Date.parse(String(r.headers.date ?? ''));
      return Number.isFinite(modified) && Number.isFinite(now) ? now - modified : undefined;
    };
    const marker = (name: string) => `.index.lock.${name}/`;
    return {
      where: this.describe(LOCK_DIR),
      stuckAdvice: `DELETE ${this.describe(LOCK_DIR)} and publish again`,
      create: async (content) => {
        const made = await this.send('MKCOL', LOCK_DIR, 'taking the index lock', [201, 405]);
        if (made.status === 405) return false;
        await this.send('PUT', LOCK_OWNER, 'taking the index lock', [200, 201, 204], { body: () => Buffer.from(content) });
        return true;
      },
      inspect: async () => {
        const owner = await this.send('GET', LOCK_OWNER, 'checking the index lock', [200, 404], { collect: true });
        if (owner.status === 200) {
          const content = owner.body.toString('utf8');
          return { id: lockId(content), content, ageMs: age(owner) };
        }
        // No owner file: no lock, or one whose taker has not written it yet (or died before).
        const dir = await this.send('HEAD', LOCK_DIR, 'checking the index lock', [200, 301, 403, 404]);
        return dir.status === 404 ? null : { id: 'none', content: null };
      },
      remove: () => this.remove(LOCK_DIR),
      touch: async (content) => {
        const owner = await this.read(LOCK_OWNER);
        if (owner?.toString('utf8') === content) await this.uploadBytes(LOCK_OWNER, Buffer.from(content));
      },
      createMarker: async (name) => (await this.send('MKCOL', marker(name), 'breaking a stale index lock', [201, 405])).status === 201,
      removeMarker: (name) => this.remove(marker(name)),
      markerAge: async (name) => ((await this.send('HEAD', marker(name), 'breaking a stale index lock', [200, 301, 403, 404])).status === 404 ? null : undefined),
    };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
