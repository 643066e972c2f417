// The contract every `pot-image` command keeps: one table of exit codes and one
// option vocabulary. README's "The command line" section and
// test/cli/contract.test.ts are both checked against these tables.

/** Exit codes, the same for every command. */
export const EXIT = {
  done: 0,
  failed: 1,
  badInput: 2,
  interrupted: 130,
  terminated: 143,
} as const;

export const EXIT_CODE_TABLE: ReadonlyArray<readonly [number, string]> = [
  [EXIT.done, 'done'],
  [EXIT.failed, 'the work failed (build, check, upload, verification); nothing half-written is left'],
  [EXIT.badInput, 'bad input: unknown option or key, bad value, missing or unreadable file; nothing was done'],
  [EXIT.interrupted, 'interrupted by SIGINT (Ctrl-C); temporaries removed, the build pot destroyed'],
  [EXIT.terminated, 'stopped by SIGTERM; the same cleanup'],
];

/** 128 + the signal's number, as a shell reports it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
}

/**
 * One name per concept. Every command that takes the concept uses this name;
 * the test refuses any option not in this list.
 */
export const VOCABULARY: Readonly<Record<string, string>> = {
  definition: 'the image definition file (default image/image.yaml)',
  tag: 'the image version = export tag (semver, e.g. 0.11.0)',
  pot: 'the pot name, e.g. matrix-synapse-nomad-amd64-13_0',
  release: 'FreeBSD release, e.g. 13.0 or 14.3',
  arch: 'architecture: amd64 or arm64',
  from: 'folder holding the exported image files',
  to: 'the repository: a folder, file://… or a WebDAV http(s):// URL',
  'public-url': 'the URL clients import from (the repository as pot import sees it)',
  'secret-key': 'signify secret key file',
  'public-key': 'signify public key file',
  output: 'where the artifacts and the build log go',
  out: 'the file to write instead of standard output',
  json: 'print the result as JSON on standard output (progress and errors on standard error)',
  verbose: 'stream every command\'s output; add stack traces to errors',
  help: 'this help',
  // Options only one command has.
  compression: 'xz level', network: 'pot network type', 'flavour-dir': 'flavour sources',
  'flavour-install-dir': "pot's flavour folder", 'dry-run': 'print the plan instead of building', keep: 'keep the build pot',
  'require-signature': 'fail instead of publishing unsigned', 'skip-smoke-test': 'skip the smoke test', rebuild: 'build even when unchanged',
  'allow-older': 'allow a tag lower than the newest', 'allow-eol': 'build an end-of-life release anyway', 'no-publish': 'do not publish', create: 'create a missing repository folder',
  'no-passphrase': 'store the secret key unencrypted', comment: 'key comment', timeout: 'stall timeout in seconds',
  dir: 'the folder to serve', port: 'TCP port', host: 'address to listen on', datacenter: 'Nomad datacenter',
  params: 'KEY=VALUE parameter file', 'plain-env': 'secrets in env {}', 'control-key': "control user's key",
  'dynamic-ports': 'Nomad picks the ports', 'service-provider': 'consul or nomad', check: 'a job file to check',
  builder: 'the FreeBSD builder: local or ssh://[user@]host[:port]',
};

/** Old option names still accepted, with a warning naming the new one. */
export const DEPRECATED_OPTIONS: Readonly<Record<string, string>> = {
  version: 'tag', // build/plan --version X.Y.Z; `pot-image --version` prints the program's version
  'publish-to': 'to',
  'repo-url': 'public-url',
  url: 'public-url',
  'sign-key': 'secret-key',
  secret: 'secret-key',
  public: 'public-key',
};

/**
 * Replace deprecated option names by their new ones (also in --old=value form),
 * calling warn once per old name; stops at `--` (what follows is not ours).
 */
export function renameDeprecated(args: string[], warn: (line: string) => void): string[] {
  const warned = new Set<string>();
  const out: string[] = [];
  let passThrough = false;
  for (const arg of args) {
    if (passThrough || arg === '--' || !arg.startsWith('--')) {
      if (arg === '--') passThrough = true;
      out.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const renamed = DEPRECATED_OPTIONS[name];
    if (renamed === undefined) { out.push(arg); continue; }
    if (!warned.has(name)) {
      warned.add(name);
      warn(`--${name} is deprecated; use --${renamed}`);
    }
    out.push(`--${renamed}${eq < 0 ? '' : arg.slice(eq)}`);
  }
  return out;
}
