// A read-only HTTP server for a folder repository, enough for `pot import -U`:
// GET/HEAD, Content-Length, single Range requests, Last-Modified, no traversal,
// and nothing whose name starts with a dot (upload temporaries, the index lock).
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, sep } from 'node:path';
import { isTemporaryOrHidden } from './names.js';

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.skein': 'text/plain; charset=utf-8',
  '.meta': 'text/plain; charset=utf-8',
  '.sig': 'text/plain; charset=utf-8',
  '.pub': 'text/plain; charset=utf-8',
  '.xz': 'application/x-xz',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The path segments of a request, or null when any would leave the folder or is hidden. */
export function safeSegments(rawPath: string): string[] | null {
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '.' || segment === '..' || segment.includes('/') || segment.includes('\\') || segment.includes('\0')) return null;
    if (isTemporaryOrHidden(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

type Range = { start: number; end: number } | 'unsatisfiable' | null;

/** One byte range ("bytes=a-b", "bytes=a-", "bytes=-n"); several ranges are answered with the whole file. */
export function parseRange(header: string | undefined, size: number): Range {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** Whether an If-Range header (absent, an entity tag or a date) still matches the file. */
export function ifRangeHolds(ifRange: string | undefined, etag: string, lastModified: Date): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  // Entity tags compare strongly: a weak one never matches.
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
  const date = Date.parse(value);
  return Number.isFinite(date) && date === lastModified.getTime();
}

async function listing(dir: string, urlPath: string): Promise<string> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => !isTemporaryOrHidden(d.name) && (d.isFile() || d.isDirectory()))
    .map((d) => (d.isDirectory() ? `${d.name}/` : d.name))
    .sort();
  const items = names.map((n) => `<li><a href="${escapeHtml(encodeURIComponent(n.replace(/\/$/, '')) + (n.endsWith('/') ? '/' : ''))}">${escapeHtml(n)}</a></li>`);
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(urlPath)}</title></head><body><h1>${escapeHtml(urlPath)}</h1><ul>\n${items.join('\n')}\n</ul></body></html>\n`;
}

export interface RepositoryServer {
  server: http.Server;
  /** http://host:port/ */
  url: string;
  close(): Promise<void>;
}

export function createRepositoryHandler(dir: string): http.RequestListener {
  const rootPromise = realpath(dir);
  return (req, res) => {
    void (async () => {
      const root = await rootPromise;
      const send = (status: number, text: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
        res.end(req.method === 'HEAD' ? undefined : text);
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(405, 'read-only repository: only GET and HEAD\n', { allow: 'GET, HEAD' });
        return;
      }
      const urlPath = (req.url ?? '/').split('?')[0]!;
      const segments = safeSegments(urlPath);
      if (segments === null) {
        send(404, 'not found\n');
        return;
      }
      let path = join(root, ...segments);
      let info;
      try {
        // Symbolic links must not lead outside the folder either.
        // Judge the resolved target, not the name asked for: a link to .index.lock (or into a
        // hidden folder) is as hidden as the file it names.
        path = await realpath(path);
        if (path !== root && !path.startsWith(root + sep)) throw new Error('outside');
        if (relative(root, path).split(sep).some((segment) => segment !== '' && isTemporaryOrHidden(segment))) throw new Error('hidden');
        info = await stat(path);
      } catch {
        send(404, 'not found\n');
        return;
      }
      if (info.isDirectory()) {
        if (!urlPath.endsWith('/')) {
          send(301, 'moved\n', { location: `${urlPath}/` });
          return;
        }
        const index = join(path, 'index.html');
        const indexInfo = await stat(index).catch(() => null);
        if (!indexInfo?.isFile()) {
          send(200, await listing(path, urlPath), { 'content-type': 'text/html; charset=utf-8' });
          return;
        }
        path = index;
        info = indexInfo;
      }
      if (!info.isFile()) {
        send(404, 'not found\n');
        return;
      }
      const lastModified = new Date(Math.floor(info.mtimeMs / 1000) * 1000);
      const headers: Record<string, string> = {
        'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
        'last-modified': lastModified.toUTCString(),
        'accept-ranges': 'bytes',
        etag: `"${info.mtimeMs.toString(16)}-${info.size.toString(16)}"`,
      };
      const since = Date.parse(String(req.headers['if-modified-since'] ?? ''));
      if (Number.isFinite(since) && lastModified.getTime() <= since && !req.headers.range) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      // If-Range (RFC 9110 13.1.5): a Range only applies while the validator still matches;
      // otherwise the answer is the whole file (200), which is what a resuming client needs.
      const range = ifRangeHolds(req.headers['if-range'] as string | undefined, headers.etag!, lastModified) ? parseRange(req.headers.range, info.size) : null;
      if (range === 'unsatisfiable') {
        send(416, 'range not satisfiable\n', { 'content-range': `bytes */${info.size}` });
        return;
      }
      const start = range ? range.start : 0;
      const end = range ? range.end : info.size - 1;
      const length = info.size === 0 ? 0 : end - start + 1;
      res.writeHead(range ? 206 : 200, {
        ...headers,
        'content-length': String(length),
        ...(range ? { 'content-range': `bytes ${start}-${end}/${info.size}` } : {}),
      });
      if (req.method === 'HEAD' || length === 0) {
        res.end();
        return;
      }
      const stream = createReadStream(path, { start, end, highWaterMark: 1024 * 1024 });
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  };
}

/** Serve `dir` read-only on host:port (port 0: any free port). */
export function serveRepository(dir: string, host: string, port: number): Promise<RepositoryServer> {
  const server = http.createServer(createRepositoryHandler(dir));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${shownHost}:${address.port}/`,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
