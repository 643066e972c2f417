// A stand-in for the started jail's nginx in front of Synapse, on 127.0.0.1:
// /health, client versions, the well-known files, shared-secret registration
// (nonce + HMAC-SHA1 checked for real, nonces single-use) and password login.
// Each answer can be broken on purpose to test the smoke test's checks.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Faults {
  /** ok; fail: 200 "FAIL"; down: 502 from nginx; hang: never answers. */
  health?: 'ok' | 'fail' | 'down' | 'hang';
  /** Answer 502 to this many /health probes before OK (Synapse still starting). */
  healthyAfter?: number;
  versions?: 'ok' | 'html';
  wellKnownServer?: 'ok' | 'wrong-domain' | 'no-cors';
  wellKnownClient?: 'ok' | 'wrong-base';
  /** ok; not-routed: nginx has no location for /_synapse/admin (404); wrong-secret: HMAC checked against another secret. */
  register?: 'ok' | 'not-routed' | 'wrong-secret';
  login?: 'ok' | 'forbidden';
}

export class SynapseStandIn {
  private server: Server | undefined;
  private secret = '';
  domain = '';
  readonly nonces = new Set<string>();
  readonly users = new Map<string, string>();
  /** Host header and path of every request, in order. */
  readonly requests: { host: string | undefined; method: string; path: string }[] = [];
  private healthProbes = 0;

  /**
   * @param envSource where the jail's environment is read when nobody called boot()
   *   (a separate pot stand-in process started the "jail")
   */
  constructor(public faults: Faults = {}, private readonly envSource?: () => Record<string, string> | undefined) {}

  /** What cook does with its environment: the jail now "runs" with this secret and domain. */
  boot(env: Record<string, string>): void {
    this.secret = env.MYSHAREDSECRET ?? '';
    this.domain = env.DOMAIN ?? '';
  }

  /** register_new_matrix_user inside the jail: adds the user directly. */
  registerDirect(user: string, password: string): void {
    this.users.set(user, password);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => { void this.handle(req, res); });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.secret && this.envSource) {
      const env = this.envSource();
      if (env) this.boot(env);
      else {
        // The jail has not started yet: nothing but a gateway error.
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
        return;
      }
    }
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push({ host: req.headers.host, method: req.method ?? 'GET', path });
    const f = this.faults;
    if (path === '/health') {
      if (f.health === 'hang') return; // accepted, never answered
      this.healthProbes++;
      if (f.health === 'down' || this.healthProbes <= (f.healthyAfter ?? 0)) {
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(f.health === 'fail' ? 'FAIL' : 'OK');
      return;
    }
    if (path === '/_matrix/client/versions') {
      if (f.versions === 'html') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Welcome to nginx!</html>');
        return;
      }
      this.json(res, 200, { versions: ['r0.6.1', 'v1.1', 'v1.10'], unstable_features: {} });
      return;
    }
    const cors: Record<string, string> = f.wellKnownServer === 'no-cors' ? {} : { 'access-control-allow-origin': '*' };
    if (path === '/.well-known/matrix/server') {
      this.json(res, 200, { 'm.server': f.wellKnownServer === 'wrong-domain' ? 'matrix.other.example:443' : `${this.domain}:443` }, cors);
      return;
    }
    if (path === '/.well-known/matrix/client') {
      const base = f.wellKnownClient === 'wrong-base' ? 'http://localhost:8008' : `https://${this.domain}`;
      this.json(res, 200, { 'm.homeserver': { base_url: base } }, { 'access-control-allow-origin': '*' });
      return;
    }
    if (path === '/_synapse/admin/v1/register') {
      if (f.register === 'not-routed') {
        res.writeHead(404, { 'content-type': 'text/html' }).end('<html>404 Not Found</html>');
        return;
      }
      if (req.method === 'GET') {
        const nonce = randomBytes(16).toString('hex');
        this.nonces.add(nonce);
        this.json(res, 200, { nonce });
        return;
      }
      const b = await this.body(req);
      const nonce = String(b.nonce ?? '');
      if (!this.nonces.delete(nonce)) {
        this.json(res, 400, { errcode: 'M_UNKNOWN', error: 'unrecognised nonce' });
        return;
      }
      const secret = f.register === 'wrong-secret' ? 'not-the-secret-cook-was-given' : this.secret;
      const want = createHmac('sha1', secret)
        .update(`${nonce}\0${String(b.username)}\0${String(b.password)}\0${b.admin ? 'admin' : 'notadmin'}`)
        .digest();
      const got = Buffer.from(String(b.mac ?? ''), 'hex');
      if (got.length !== want.length || !timingSafeEqual(got, want)) {
        this.json(res, 403, { errcode: 'M_FORBIDDEN', error: 'HMAC incorrect' });
        return;
      }
      this.users.set(String(b.username), String(b.password));
      this.json(res, 200, { user_id: `@${String(b.username)}:${this.domain}`, access_token: 'syt_x', home_server: this.domain, device_id: 'D' });
      return;
    }
    if (path === '/_matrix/client/v3/login' && req.method === 'POST') {
      const b = await this.body(req);
      const user = String((b.identifier as { user?: unknown } | undefined)?.user ?? '');
      if (f.login === 'forbidden' || this.users.get(user) !== b.password) {
        this.json(res, 403, { errcode: 'M_FORBIDDEN', error: 'Invalid username or password' });
        return;
      }
      this.json(res, 200, { user_id: `@${user}:${this.domain}`, access_token: 'syt_login', device_id: 'D2', home_server: this.domain });
      return;
    }
    this.json(res, 404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
  }
}
