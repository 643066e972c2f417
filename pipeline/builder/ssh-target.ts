// `--builder ssh://[user@]host[:port]` (or `builder:` in image/image.yaml): the
// one parser of builder addresses. Anything else is bad input (exit 2) naming
// the value and the form it must take.
import { InputError } from '../errors.js';

export interface SshTarget {
  user?: string;
  host: string;
  port?: number;
  /** As shown in the plan and messages: `user@host:port` (parts given only). */
  where: string;
}

const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
// A DNS name, an IPv4 address, or an ssh_config Host alias; never an option (leading '-').
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/;
const IPV6 = /^\[([0-9A-Fa-f:.]+)\]$/;

/** undefined or 'local' → the local host; otherwise an SSH target. */
export function parseBuilder(value: string | undefined, field = '--builder'): SshTarget | undefined {
  if (value === undefined || value === '' || value === 'local') return undefined;
  const bad = (why: string) => new InputError(`${field}: '${value}' ${why}; use ssh://[user@]host[:port] or local`);
  const m = /^ssh:\/\/(?:([^@/]*)@)?(\[[^\]]*\]|[^:/]*)(?::([^/]*))?\/?$/.exec(value);
  if (!m) throw bad('is not an SSH builder address');
  const [, user, rawHost = '', portText] = m;
  if (user !== undefined && !USER.test(user)) throw bad(`has an invalid user name '${user}'`);
  const v6 = IPV6.exec(rawHost);
  const host = v6 ? v6[1]! : rawHost;
  if (!host || (!v6 && !HOST.test(host))) throw bad(`has an invalid host name '${rawHost}'`);
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) throw bad(`has an invalid port '${portText}' (1-65535)`);
  }
  const where = `${user ? `${user}@` : ''}${v6 ? `[${host}]` : host}${port ? `:${port}` : ''}`;
  return { user, host, port, where };
}
