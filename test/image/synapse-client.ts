// A Matrix client for the image tests with a real Synapse: accounts are
// created the way image/README.md tells operators (register_new_matrix_user
// inside the jail, answering its questions), then everything else goes
// through the jail's nginx with curl inside the jail.
import assert from 'node:assert/strict';
import { request, type LiveJail } from '../helpers/synapse.js';

const HOMESERVER_YAML = '/usr/local/etc/matrix-synapse/homeserver.yaml';

export interface Client {
  userId: string;
  token: string;
  get(path: string): Promise<any>;
  post(path: string, body: unknown): Promise<any>;
  put(path: string, body: unknown): Promise<any>;
  /** Poll CHECK until it holds (federation is asynchronous), within DEADLINE ms. */
  until(what: string, check: () => Promise<boolean>, deadlineMs?: number): Promise<void>;
}

/** `register_new_matrix_user -c homeserver.yaml -u USER [-a] http://127.0.0.1:8008`, as the image README says. */
export async function registerUser(jail: LiveJail, user: string, password: string, admin = false): Promise<void> {
  const args = ['register_new_matrix_user', '-c', HOMESERVER_YAML, '-u', user, ...(admin ? ['-a'] : []), 'http://127.0.0.1:8008'];
  // It asks for the password twice and, without -a, whether to make an admin.
  const r = await jail.exec(args, { input: `${password}\n${password}\n${admin ? '' : 'no\n'}` });
  assert.equal(r.code, 0, `register_new_matrix_user: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout + r.stderr, /Success!/);
}

/** Log in with a password through nginx; BASE is how a client reaches the server (https://DOMAIN or http://127.0.0.1). */
export async function login(jail: LiveJail, base: string, user: string, password: string, curl: string[] = []): Promise<Client> {
  const answer = await request(jail, `${base}/_matrix/client/v3/login`, {
    method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password }, curl,
  });
  assert.equal(answer.status, 200, `login of ${user}: ${answer.body}`);
  const { access_token: token, user_id: userId } = answer.json();
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await request(jail, base + path, { method, body, headers: [`Authorization: Bearer ${token}`], curl });
    assert.equal(r.status, 200, `${method} ${path}: ${r.status} ${r.body}`);
    return r.json();
  };
  return {
    userId, token,
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    put: (path, body) => call('PUT', path, body),
    async until(what, check, deadlineMs = 120_000) {
      const started = Date.now();
      while (!(await check())) {
        if (Date.now() - started > deadlineMs) throw new Error(`${what}: not within ${deadlineMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
  };
}

export async function registerAndLogin(jail: LiveJail, domain: string, user: string, password: string, admin = false): Promise<Client> {
  await registerUser(jail, user, password, admin);
  return login(jail, `https://${domain}`, user, password);
}
