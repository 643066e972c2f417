// The HTTP checks of the smoke test, each against the jail's nginx. A failing
// check throws SmokeCheckError with one line saying what was expected and seen.
import { createHmac } from 'node:crypto';
import { httpCall, networkReason, type HttpResponse } from './http.js';

export class SmokeCheckError extends Error {
  constructor(readonly check: string, detail: string) {
    super(`${check}: ${detail}`);
    this.name = 'SmokeCheckError';
  }
}

export interface CheckTarget {
  /** http://<jail ip> (no trailing slash). */
  baseUrl: string;
  /** The Matrix domain cook was given; sent as Host. */
  domain: string;
  /** Milliseconds this request may take. */
  timeoutMs: () => number;
}

function shorten(text: string, max = 80): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

async function call(t: CheckTarget, check: string, path: string, init: { method?: 'GET' | 'POST'; json?: unknown } = {}): Promise<HttpResponse> {
  const timeoutMs = t.timeoutMs();
  if (timeoutMs <= 0) throw new SmokeCheckError(check, 'no time left before the smoke-test deadline');
  try {
    return await httpCall(`${t.baseUrl}${path}`, { ...init, host: t.domain, timeoutMs });
  } catch (error) {
    throw new SmokeCheckError(check, `${init.method ?? 'GET'} ${path} failed: ${networkReason(error)}`);
  }
}

function parseJson(check: string, path: string, res: HttpResponse): Record<string, unknown> {
  try {
    const v = JSON.parse(res.body) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SmokeCheckError(check, `${path} did not answer a JSON object (HTTP ${res.status}, '${shorten(res.body)}')`);
}

/** Synapse's error text, e.g. "M_FORBIDDEN: HMAC incorrect". */
function matrixError(res: HttpResponse): string {
  try {
    const v = JSON.parse(res.body) as { errcode?: string; error?: string };
    if (v.errcode || v.error) return `${v.errcode ?? ''}${v.errcode && v.error ? ': ' : ''}${v.error ?? ''}`;
  } catch {
    // not JSON
  }
  return shorten(res.body) || 'empty body';
}

/** One probe of /health: undefined when it answered OK, else what it answered. */
export async function probeHealth(t: CheckTarget): Promise<string | undefined> {
  let res: HttpResponse;
  try {
    res = await httpCall(`${t.baseUrl}/health`, { host: t.domain, timeoutMs: Math.max(1, t.timeoutMs()) });
  } catch (error) {
    return networkReason(error);
  }
  if (res.status === 200 && res.body.trim() === 'OK') return undefined;
  return `HTTP ${res.status} '${shorten(res.body, 40)}'`;
}

/** /_matrix/client/versions answers JSON with a non-empty `versions` list; returns the newest. */
export async function checkVersions(t: CheckTarget): Promise<string> {
  const check = 'client versions';
  const path = '/_matrix/client/versions';
  const res = await call(t, check, path);
  if (res.status !== 200) throw new SmokeCheckError(check, `${path} answered HTTP ${res.status} ('${shorten(res.body)}'), expected 200 with JSON`);
  const v = parseJson(check, path, res).versions;
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string')) {
    throw new SmokeCheckError(check, `${path} has no 'versions' list of strings`);
  }
  return String(v[v.length - 1]);
}

function checkWellKnownHeaders(check: string, path: string, res: HttpResponse): void {
  if (res.status !== 200) throw new SmokeCheckError(check, `${path} answered HTTP ${res.status}, expected 200`);
  const type = String(res.headers['content-type'] ?? '');
  if (!/application\/json/i.test(type)) throw new SmokeCheckError(check, `${path} has Content-Type '${type}', expected application/json`);
  if (res.headers['access-control-allow-origin'] !== '*') {
    throw new SmokeCheckError(check, `${path} lacks 'Access-Control-Allow-Origin: *' (clients in browsers need it)`);
  }
}

/** /.well-known/matrix/server names DOMAIN (optionally with a port). */
export async function checkWellKnownServer(t: CheckTarget): Promise<string> {
  const check = 'well-known server';
  const path = '/.well-known/matrix/server';
  const res = await call(t, check, path);
  checkWellKnownHeaders(check, path, res);
  const server = parseJson(check, path, res)['m.server'];
  const expected = new RegExp(`^${t.domain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:\\d{1,5})?$`);
  if (typeof server !== 'string' || !expected.test(server)) {
    throw new SmokeCheckError(check, `${path} has m.server ${JSON.stringify(server)}, expected "${t.domain}:PORT"`);
  }
  return server;
}

/** /.well-known/matrix/client points clients at https://DOMAIN. */
export async function checkWellKnownClient(t: CheckTarget): Promise<string> {
  const check = 'well-known client';
  const path = '/.well-known/matrix/client';
  const res = await call(t, check, path);
  checkWellKnownHeaders(check, path, res);
  const hs = parseJson(check, path, res)['m.homeserver'] as { base_url?: unknown } | undefined;
  const base = hs && typeof hs === 'object' ? hs.base_url : undefined;
  if (typeof base !== 'string' || base.replace(/\/+$/, '') !== `https://${t.domain}`) {
    throw new SmokeCheckError(check, `${path} has m.homeserver.base_url ${JSON.stringify(base)}, expected "https://${t.domain}"`);
  }
  return base;
}

/** Synapse's shared-secret MAC: HMAC-SHA1(secret, nonce NUL user NUL password NUL admin|notadmin), hex. */
export function registrationMac(secret: string, nonce: string, user: string, password: string, admin = false): string {
  return createHmac('sha1', secret)
    .update(nonce).update('\0').update(user).update('\0').update(password).update('\0')
    .update(admin ? 'admin' : 'notadmin')
    .digest('hex');
}

export const REGISTER_PATH = '/_synapse/admin/v1/register';

/**
 * Shared-secret registration through nginx. Returns the new user id, or
 * 'not-exposed' when nginx does not route the admin API (Synapse's
 * reverse-proxy guide leaves /_synapse/admin out; the caller then registers
 * from inside the jail).
 */
export async function registerWithSharedSecret(t: CheckTarget, secret: string, user: string, password: string): Promise<string | 'not-exposed'> {
  const check = 'shared-secret registration';
  const nonceRes = await call(t, check, REGISTER_PATH);
  if (nonceRes.status === 404) return 'not-exposed';
  if (nonceRes.status !== 200) throw new SmokeCheckError(check, `GET ${REGISTER_PATH} answered HTTP ${nonceRes.status} (${matrixError(nonceRes)})`);
  const nonce = parseJson(check, REGISTER_PATH, nonceRes).nonce;
  if (typeof nonce !== 'string' || nonce === '') throw new SmokeCheckError(check, `GET ${REGISTER_PATH} gave no nonce`);
  const mac = registrationMac(secret, nonce, user, password, false);
  const res = await call(t, check, REGISTER_PATH, { method: 'POST', json: { nonce, username: user, password, admin: false, mac } });
  if (res.status !== 200) throw new SmokeCheckError(check, `POST ${REGISTER_PATH} answered HTTP ${res.status} (${matrixError(res)})`);
  const userId = parseJson(check, REGISTER_PATH, res).user_id;
  if (typeof userId !== 'string') throw new SmokeCheckError(check, `POST ${REGISTER_PATH} answered no user_id`);
  return userId;
}

export const LOGIN_PATH = '/_matrix/client/v3/login';

/** Password login of the user just registered; returns its user id. */
export async function checkLogin(t: CheckTarget, user: string, password: string): Promise<string> {
  const check = 'login';
  const res = await call(t, check, LOGIN_PATH, {
    method: 'POST',
    json: { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password, initial_device_display_name: 'pot-image smoke test' },
  });
  if (res.status !== 200) throw new SmokeCheckError(check, `POST ${LOGIN_PATH} answered HTTP ${res.status} (${matrixError(res)})`);
  const body = parseJson(check, LOGIN_PATH, res);
  if (typeof body.access_token !== 'string' || body.access_token === '') throw new SmokeCheckError(check, `POST ${LOGIN_PATH} answered no access_token`);
  const userId = body.user_id;
  if (typeof userId !== 'string' || !userId.startsWith(`@${user}:`)) {
    throw new SmokeCheckError(check, `POST ${LOGIN_PATH} logged in as ${JSON.stringify(userId)}, expected @${user}:…`);
  }
  return userId;
}
