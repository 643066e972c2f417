// A small HTTP client for talking to the jail's nginx: node:http so we can set
// the Host header (nginx picks the server block by it), with a hard timeout.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  /** Sent as JSON with Content-Type application/json. */
  json?: unknown;
  /** Host header (the Matrix domain); defaults to the URL's host. */
  host?: string;
  timeoutMs: number;
}

const MAX_BODY = 1024 * 1024;

export function httpCall(url: string, req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const body = req.json === undefined ? undefined : Buffer.from(JSON.stringify(req.json));
    const headers: Record<string, string> = { accept: 'application/json, text/plain, */*' };
    if (req.host) headers.host = req.host;
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.length);
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const r = send(target, { method: req.method ?? 'GET', headers, servername: req.host, timeout: req.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // `timeout` only covers idle sockets; a server that accepts and never answers
    // is cut off by this overall timer too.
    const timer = setTimeout(() => r.destroy(new Error(`no answer within ${Math.round(req.timeoutMs / 100) / 10}s`)), req.timeoutMs);
    r.on('timeout', () => r.destroy(new Error(`no answer within ${Math.round(req.timeoutMs / 100) / 10}s`)));
    r.on('error', (e) => { clearTimeout(timer); reject(e); });
    r.on('close', () => clearTimeout(timer));
    r.end(body);
  });
}

/** The short reason a request failed: "connection refused", "no answer within 2s", … */
export function networkReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': return 'connection reset';
    case 'EHOSTUNREACH': return 'host unreachable';
    case 'ENETUNREACH': return 'network unreachable';
    case 'ETIMEDOUT': return 'connection timed out';
    default: return (e?.message ?? String(error)).split('\n')[0] ?? 'request failed';
  }
}
