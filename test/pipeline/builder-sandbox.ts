// A pretend FreeBSD builder for end-to-end builds on Linux: the stand-ins for
// pot, uname, id, zfs and pkg first on PATH, pot's state and flavour folder
// in temp folders, the artifacts in a temp output folder.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { PROJECT_ROOT, runCli, type CliOptions, type CliResult } from '../helpers/cli.js';
import { preparedHost, type FreeBsdHost } from '../helpers/freebsd-host.js';
import { tempDir } from '../helpers/tmp.js';

export const STAND_INS = join(PROJECT_ROOT, 'test', 'stand-ins');
export const FIXTURE_FLAVOURS = join(PROJECT_ROOT, 'test', 'fixtures', 'flavours');
export const POT_NAME = 'matrix-synapse-nomad-amd64-14_5';
/** The e2e builds pin their tag, so a version bump in image/image.yaml does not touch them. */
export const TAG = '1.2.3';

export interface Sandbox {
  dir: string;
  potRoot: string;
  potLog: string;
  installDir: string;
  output: string;
  repo: string;
  /** The builder's / (MANIFESTS, pot's cache, resolv.conf) and the mirror that is its network. */
  host: FreeBsdHost;
  env: Record<string, string>;
  /** `pot-image build` with the sandbox's folders; extra args and env on top. */
  build(args?: string[], env?: Record<string, string>, options?: CliOptions & { publish?: boolean; version?: string }): Promise<CliResult>;
  /** Lines the stand-ins recorded, in order. */
  calls(): string[];
  /** Pots that exist in the stand-in's state. */
  pots(): string[];
  /** Files in the output folder (dot files included: a leftover staging folder would show). */
  outputFiles(): string[];
}

/**
 * The project's image definition at `version`, with a CHANGELOG whose top entry agrees
 * (a real build refuses a version the CHANGELOG does not name).
 */
function definitionFor(dir: string, version: string): string {
  const defDir = join(dir, `definition-${version}`);
  const file = join(defDir, 'image.yaml');
  if (!existsSync(file)) {
    mkdirSync(defDir, { recursive: true });
    // One release (the multi-release builds have their own tests): one image, one summary.
    const text = readFileSync(join(PROJECT_ROOT, 'image', 'image.yaml'), 'utf8').replace(/^version: .*$/m, `version: ${version}`)
      .replace(/^  releases: .*$/m, '  releases: ["14.5"]');
    writeFileSync(file, text);
    writeFileSync(join(defDir, 'CHANGELOG.md'), `# Changelog\n\n## ${version}\n\n- test build\n`);
  }
  return file;
}

export function sandbox(): Sandbox {
  const dir = tempDir('pot-image-e2e-');
  const potRoot = join(dir, 'pot');
  const potLog = join(dir, 'calls.log');
  const installDir = join(dir, 'flavours');
  const output = join(dir, 'out');
  const repo = join(dir, 'repo');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  mkdirSync(installDir, { recursive: true });
  mkdirSync(potRoot, { recursive: true }); // what `pot init` leaves: pot refuses to work without its POT_FS_ROOT
  // pot ships the stock fbsd-update flavour in its flavour folder.
  copyFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'stock-flavours', 'fbsd-update.sh'), join(installDir, 'fbsd-update.sh'));
  const host = preparedHost();
  const env = {
    ...host.env,
    POT_IMAGE_BUILD_DATE: '2026-12-01',
    PATH: `${join(STAND_INS, 'builder')}:${STAND_INS}:${process.env.PATH ?? ''}`,
    POT_STANDIN_ROOT: potRoot,
    POT_STANDIN_LOG: potLog,
    POT_STANDIN_FLAVOURS_DIR: installDir,
    // The build's temporary folders (the builder's staging, the smoke test's scratch) stay in the sandbox.
    TMPDIR: tmp,
  };
  const s: Sandbox = {
    dir, potRoot, potLog, installDir, output, repo, host, env,
    build: (args = [], extraEnv = {}, options = {}) => runCli([
      'build', '--definition', definitionFor(dir, options.version ?? TAG),
      '--flavour-dir', FIXTURE_FLAVOURS, '--flavour-install-dir', installDir, '--output', output,
      '--to', repo, ...(options.publish ? [] : ['--no-publish']), '--skip-smoke-test', ...args,
    ], { ...options, env: { ...env, ...extraEnv, ...options.env } }),
    calls: () => (existsSync(potLog) ? readFileSync(potLog, 'utf8').split('\n').filter(Boolean) : []),
    pots: () => {
      const jails = join(potRoot, 'jails');
      return existsSync(jails) ? readdirSync(jails) : [];
    },
    outputFiles: () => (existsSync(output) ? readdirSync(output).sort() : []),
  };
  return s;
}

/** Wait until `file` has a line matching `pattern` (bounded polling; the stand-in appends as it goes). */
export async function waitForLine(file: string, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file) && readFileSync(file, 'utf8').split('\n').some((l) => pattern.test(l))) return;
    await delay(25);
  }
  throw new Error(`no line matching ${pattern} in ${file} within ${timeoutMs} ms`);
}

/** The four artifact names of a build (xz, meta, skein; sig only when signed). */
export function artifactNames(pot = POT_NAME, tag = TAG): string[] {
  const base = `${pot}_${tag}.xz`;
  return [base, `${base}.meta`, `${base}.skein`];
}
