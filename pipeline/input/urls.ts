// The one URL parser for every URL a command takes (--to, --url, --public-url,
// --repo-url, publish.public_url): credentials never belong in one, because URLs
// are printed in logs, errors, JSON results and job files. It refuses them on
// input, and showUrl() strips them from anything printed that did not come
// through here (a redirect target, a URL in a message from elsewhere).
import { InputError } from '../errors.js';

export const CREDENTIAL_ADVICE = 'set POT_IMAGE_REPO_USER/POT_IMAGE_REPO_PASSWORD or POT_IMAGE_REPO_TOKEN instead';

/** Userinfo ("user:password@") after a scheme, in free text. */
const USERINFO = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#@\s]*@/g;

/** Text with any user:password@ of a URL in it removed (for printing what may hold one). */
export function stripCredentials(text: string): string {
  return text.replace(USERINFO, '$1');
}

/** A URL as printed: never with user info. */
export function showUrl(url: URL | string): string {
  if (typeof url === 'string') return stripCredentials(url);
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}

export interface UrlRules {
  /** Schemes allowed, without the colon: ['http', 'https']. */
  schemes: readonly string[];
  /** Refuse ?query and #fragment (a repository base URL has neither). Default true. */
  baseOnly?: boolean;
}

/** Parse `text` given to `option`; InputError (exit 2) for anything unusable, never echoing credentials. */
export function parseUrl(text: string, option: string, rules: UrlRules): URL {
  const shown = stripCredentials(text);
  if (text.includes('\0')) throw new InputError(`${option}: the URL contains a NUL byte`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`${option}: '${shown}' is not a URL; use ${rules.schemes.map((s) => `${s}://`).join(', ')}`);
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  if (!rules.schemes.includes(scheme)) {
    throw new InputError(`${option}: '${showUrl(url)}' uses ${scheme}://; use ${rules.schemes.map((s) => `${s}://`).join(', ')}`);
  }
  if (url.username || url.password) {
    throw new InputError(`${option}: the URL ${showUrl(url)} carries credentials, which would be printed in logs and errors; remove them and ${CREDENTIAL_ADVICE}`);
  }
  if ((rules.baseOnly ?? true) && (url.search || url.hash)) {
    throw new InputError(`${option}: '${url.href}' has a query or fragment; give the repository's base URL`);
  }
  return url;
}
