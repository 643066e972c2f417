// What preflight asks about the release itself, before `pot create`: is its
// base cached with the MANIFEST's sha256 or downloadable from where pot looks
// (or, for an end-of-life build, from FreeBSD's archive); does the base's
// pkg.conf name the repository this release should have; does the package
// repository for the jail's ABI answer and hold every origin the flavour installs.
import { answered, builderTempPrefix } from '../builder/host.js';
import { uninterrupted } from '../builder/interruptible-host.js';
import { UserError } from '../errors.js';
import { baseLocation, manifestSha256, onHost, type BaseLocation } from '../freebsd/base-release.js';
import {
  abiOf, flavourOrigins, pkgRqueryOriginArgs, pkgUpdateArgs, portsRepositoryName, repositoryConf, repositoryNameIn,
} from '../freebsd/package-repository.js';
import { failureLine } from '../runner/execa-runner.js';
import type { BuildContext, BuildStep } from './context.js';

type Add = (what: string, fix: string) => void;

/** hw.machine / hw.machine_arch of the image's architecture. */
export function machineOf(arch: string): { machine: string; processor: string } {
  return arch === 'arm64' ? { machine: 'arm64', processor: 'aarch64' } : { machine: arch, processor: arch };
}

export function baseOf(ctx: BuildContext): BaseLocation {
  const { machine, processor } = machineOf(ctx.definition.freebsd.arch);
  return baseLocation(ctx.definition.freebsd.potRelease, machine, processor);
}

const eolBuild = (ctx: BuildContext) => ctx.lifecycle?.status === 'end-of-life' && Boolean(ctx.definition.freebsd.eolAllowance);

/** Has the base been checked and found in pot's cache with the right sha256? (set by checkBase) */
const cachedOk = new WeakMap<BuildContext, boolean>();

/** The MANIFEST's base.txz sha256 on the builder, or why there is none (nothing known in the plan). */
async function readManifest(ctx: BuildContext, manifest: string): Promise<{ sha?: string; problem?: string }> {
  const r = await ctx.runner.run('cat', [onHost(manifest)], { allowFailure: true, purpose: 'read the MANIFEST pot checks the base against' });
  if (!answered(r)) return {};
  if (r.exitCode !== 0) return { problem: `${manifest} is missing (pot refuses the release without it): pkg install freebsd-release-manifests, or pkg upgrade it` };
  const sha = manifestSha256(r.stdout);
  return sha ? { sha } : { problem: `${manifest} has no base.txz line with a sha256` };
}

export async function checkBase(ctx: BuildContext, add: Add): Promise<void> {
  const d = ctx.definition;
  const base = baseOf(ctx);
  const release = d.freebsd.potRelease;
  const manifest = await readManifest(ctx, base.manifest);
  if (manifest.problem) {
    add(manifest.problem, 'pkg install freebsd-release-manifests');
    return;
  }
  if (await ctx.runner.exists(onHost(base.cacheFile))) {
    const r = await ctx.runner.run('sha256', ['-q', base.cacheFile], { allowFailure: true, purpose: 'checksum the cached base' });
    const have = r.stdout.trim();
    if (r.exitCode === 0 && have === manifest.sha) {
      cachedOk.set(ctx, true);
      return;
    }
    add(`the cached base ${base.cacheFile} has sha256 ${have || '(unreadable)'}, but ${base.manifest} says ${manifest.sha} (pot would refuse it)`,
      `rm ${base.cacheFile}${eolBuild(ctx) ? ' (the build then fetches it again from the archive)' : ' (pot then downloads it again)'}`);
    return;
  }
  const url = eolBuild(ctx) ? base.archiveUrl : base.url;
  const r = await ctx.runner.run('fetch', ['-s', url], { allowFailure: true, purpose: 'ask whether the base can be downloaded' });
  if (answered(r) && r.exitCode !== 0) {
    const why = failureLine(r.stdout, r.stderr) || `fetch exited ${r.exitCode}`;
    add(`the base of FreeBSD ${release} is not in pot's cache and ${url} does not answer (${why})`,
      eolBuild(ctx)
        ? `check the builder's network, or put a base.txz whose sha256 matches ${base.manifest} at ${base.cacheFile}`
        : `check the builder's network and DNS; a release past its end of life is only in FreeBSD's archive (--allow-eol)`);
  }
}

/** pkg.conf's repository name, read from the cached base: FreeBSD up to 14.x, FreeBSD-ports from 15.0. */
export async function checkRepositoryName(ctx: BuildContext, add: Add): Promise<void> {
  const base = baseOf(ctx);
  const want = portsRepositoryName(ctx.definition.freebsd.major);
  if (!cachedOk.get(ctx)) return; // checked by the build script inside the jail instead (it reads the same file)
  const r = await ctx.runner.run('tar', ['-xOf', onHost(base.cacheFile), './etc/pkg/FreeBSD.conf'], { allowFailure: true, purpose: "read the base's pkg.conf" });
  if (!answered(r)) return;
  const have = r.exitCode === 0 ? repositoryNameIn(r.stdout) : undefined;
  if (have !== want) {
    add(`the base of FreeBSD ${ctx.definition.freebsd.potRelease} names its package repository '${have ?? '(none)'}' in /etc/pkg/FreeBSD.conf, but FreeBSD ${ctx.definition.freebsd.major}.x uses '${want}'`,
      'fix the release table (pipeline/definition/freebsd-releases.ts) or replace the cached base');
  }
}

/** The repository for the jail's ABI answers and has every origin the flavour installs. */
export async function checkPackageRepository(ctx: BuildContext, add: Add): Promise<void> {
  const d = ctx.definition;
  const abi = abiOf(d.freebsd.major, d.freebsd.arch);
  const repo = portsRepositoryName(d.freebsd.major);
  const origins = flavourOrigins(d.flavours.source, d.flavour);
  const scratch = await ctx.runner.makeTempDir(`${builderTempPrefix(d.potName)}pkg-`);
  try {
    await ctx.runner.makeDir(`${scratch}/repos`);
    await ctx.runner.writeFile(`${scratch}/repos/${repo}.conf`, repositoryConf(repo));
    const update = await ctx.runner.run('pkg', pkgUpdateArgs(abi, scratch, repo), { allowFailure: true, purpose: `fetch the ${abi} package catalogue` });
    if (answered(update) && update.exitCode !== 0) {
      const why = failureLine('', update.stderr.split('\n').filter((l) => /Not Found|Unable|error/i.test(l)).slice(0, 1).join('\n') || update.stderr) || `pkg update exited ${update.exitCode}`;
      add(`no package repository answers for ${abi}, the packages of FreeBSD ${d.freebsd.potRelease} (${why})`,
        `FreeBSD removes a branch's packages soon after its end of life: build a supported release${ctx.lifecycle && ctx.lifecycle.status !== 'supported' ? ` (${ctx.lifecycle.note.split('; ').pop()})` : ''}, or check the builder's network`);
      return;
    }
    const missing: string[] = [];
    for (const origin of origins) {
      const r = await ctx.runner.run('pkg', pkgRqueryOriginArgs(abi, scratch, repo, origin), { allowFailure: true, purpose: `look for ${origin}` });
      if (answered(r) && (r.exitCode !== 0 || r.stdout.trim() === '')) missing.push(origin);
    }
    if (missing.length) {
      add(`the ${repo} repository for ${abi} has no package for ${missing.join(', ')} (the flavour installs ${origins.join(', ')})`,
        'wait for the package builders, or use the latest branch (PKG_BRANCH=latest), or drop the origin from the flavour');
    }
  } finally {
    // Also after Ctrl-C (the build's host refuses new work then); if even this fails, the next preflight names the folder.
    await uninterrupted(ctx.runner).remove(scratch);
  }
}

/**
 * An end-of-life build: put the base from FreeBSD's archive into pot's cache
 * (pot itself only asks ftp.freebsd.org), checked against the same MANIFEST
 * sha256 pot checks; a mismatch stops the build before `pot create`.
 */
export function preseedTask(): BuildStep {
  return {
    title: 'pre-seed',
    enabled: (ctx) => eolBuild(ctx),
    task: async (ctx, task) => {
      const base = baseOf(ctx);
      task.title = `pre-seed pot's cache with the FreeBSD ${ctx.definition.freebsd.potRelease} base from FreeBSD's archive`;
      const part = `${base.cacheFile}.part`;
      ctx.note(`# FreeBSD ${ctx.definition.freebsd.potRelease} is past its end of life (${ctx.lifecycle!.eol}); built anyway because: ${ctx.definition.freebsd.eolAllowance}`);
      if (cachedOk.get(ctx)) {
        task.output = `${base.cacheFile} is already cached with the MANIFEST's sha256`;
        return;
      }
      const manifest = await readManifest(ctx, base.manifest);
      if (manifest.problem) throw new UserError(manifest.problem);
      await ctx.runner.makeDir(onHost('/var/cache/pot'));
      await ctx.runner.run('fetch', ['-m', '-o', part, base.archiveUrl], { purpose: `download the FreeBSD ${ctx.definition.freebsd.potRelease} base from the archive` });
      const r = await ctx.runner.run('sha256', ['-q', part], { purpose: 'checksum the downloaded base' });
      const have = r.stdout.trim();
      if (answered(r) && have !== manifest.sha) {
        throw new UserError(`the base downloaded from ${base.archiveUrl} has sha256 ${have}, but ${base.manifest} says ${manifest.sha}; nothing was created — try again, or check the mirror`);
      }
      await ctx.runner.rename(onHost(part), onHost(base.cacheFile));
      const add: Add = (what, fix) => { throw new UserError(`${what}: ${fix}`); };
      cachedOk.set(ctx, true);
      await checkRepositoryName(ctx, add);
    },
    // A download that failed or was stopped leaves no partial base in pot's cache.
    cleanup: async (ctx, { failed, builder }) => {
      if (!failed) return undefined;
      const part = `${baseOf(ctx).cacheFile}.part`;
      await builder.remove(onHost(part));
      return `removed ${part}`;
    },
  };
}

