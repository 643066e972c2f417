// A small static file server on 127.0.0.1 for tests: serves one folder over
// HTTP (GET/HEAD, Range: bytes=N-), logs every request, and can be told to
// misbehave for chosen paths (fail with a status, or cut the connection after
// some bytes) a given number of times.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface Fault {
  /** Answer with this status instead of the file... */
  status?: number;
  /** ...or send the headers and this many bytes of the body, then destroy the socket. */
  cutAfterBytes?: number;
  /** ...or never answer at all (the connection stays open until close()). */
  hang?: boolean;
  /** How many requests this applies to (default 1). */
  times?: number;
}

export interface StaticServer {
  url: string;
  /** "GET /name range" lines, in order. */
  requests: string[];
  /** Make requests for `name` (path without leading slash) misbehave. */
  fault(name: string, fault: Fault): void;
  close(): Promise<void>;
}

/** Serve `folder`; with `tls` (PEM key and certificate) over HTTPS. */
export async function startStaticServer(folder: string, tls?: { key: string; cert: string }): Promise<StaticServer> {
  const root = normalize(folder + sep);
  const requests: string[] = [];
  const faults = new Map<string, Fault & { left: number }>();
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    const range = req.headers.range;
    requests.push(`${req.method} /${path}${range ? ` ${range}` : ''}`);
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(403).end();
      return;
    }
    const registered = faults.get(path);
    const fault = registered && registered.left > 0 ? registered : undefined;
    if (fault) {
      fault.left--;
      if (fault.status) {
        res.writeHead(fault.status).end();
        return;
      }
      if (fault.hang) return;
    }
    let size: number;
    let lastModified: string;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      size = info.size;
      lastModified = info.mtime.toUTCString();
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    let start = 0;
    // A Range with an If-Range that no longer matches gets the whole file (RFC 9110).
    const ifRange = req.headers['if-range'];
    const match = range && (!ifRange || ifRange === lastModified) ? /^bytes=(\d+)-$/.exec(range) : null;
    if (match) start = Math.min(Number(match[1]), size);
    const headers = {
      'content-length': String(size - start), 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', 'last-modified': lastModified,
    };
    if (match) {
      res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${size - 1}/${size}` });
    } else {
      res.writeHead(200, headers);
    }
    if (req.method === 'HEAD' || size === start) {
      res.end();
      return;
    }
    if (fault?.cutAfterBytes !== undefined) {
      // Exactly cutAfterBytes reach the client: cut only once they are handed to the kernel.
      const handle = await open(file, 'r');
      const part = Buffer.alloc(Math.min(fault.cutAfterBytes, size - start));
      await handle.read(part, 0, part.length, start);
      await handle.close();
      res.write(part, () => res.socket?.destroy());
      return;
    }
    createReadStream(file, { start }).pipe(res);
  };
  const server: Server = tls ? createTlsServer(tls, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/`,
    requests,
    fault(name, fault) {
      faults.set(name, { ...fault, left: fault.times ?? 1 });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
