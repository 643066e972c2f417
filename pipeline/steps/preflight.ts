// preflight: everything that would make the build fail late, checked first
// and reported together, each problem with the command that fixes it. Every
// probe goes through the builder host (local, SSH) or this machine's host, so
// --dry-run shows them as the plan and tests answer them with stand-ins on PATH.
import { dirname, join } from 'node:path';
import type { ListrTask } from 'listr2';
import { UserError, oneLine } from '../errors.js';
import { answered } from '../builder/host.js';
import { readPotConfig } from '../pot/config.js';
import { POT } from '../pot/command.js';
import { infoArgs } from '../pot/info.js';
import { potList } from '../pot/ls.js';
import { potTooOld, readPotVersion } from '../pot/version.js';
import { shellQuote } from '../runner/shell-quote.js';
import { refuse, type ArtifactPaths, type BuildContext } from './context.js';
import { builderDirPrefix, flavourFiles } from './stage-flavours.js';
import { checkSigningSetup } from './sign-tasks.js';
import { checkVersionsAgree } from '../release/versions.js';
import { buildDate, newerMinor } from '../definition/lifecycle.js';
import { onHost } from '../freebsd/base-release.js';
import {
  MIN_OUTPUT_BYTES, MIN_POT_ROOT_BYTES, formatBytes, knownReleases, majorOf,
  parseDfAvail, parseUname, parseZfsAvail, resolvConfProblem,
} from './host-checks.js';
import { beforeFlavours } from './pot-steps.js';
import { checkBase, checkPackageRepository, checkRepositoryName } from './release-checks.js';

interface Problem { what: string; fix: string }

/**
 * Not an error: this release came from the definition's list and the builder cannot
 * run it (a jail's major newer than the host's). The build of this release ends with
 * exit 0 and a note; the others go on.
 */
export class ReleaseSkipped extends UserError {
  constructor(message: string) {
    super(message, 0);
    this.name = 'ReleaseSkipped';
  }
}

/** Final artifact paths a build must not overwrite (the build log is rewritten, it is not an artifact). */
export function finalArtifactPaths(a: ArtifactPaths): string[] {
  return [a.xz, a.meta, a.skein, a.sig];
}

export async function runPreflight(ctx: BuildContext, say: (line: string) => void): Promise<void> {
  const { definition: d, runner, home } = ctx;
  const problems: Problem[] = [];
  const add = (what: string, fix: string) => problems.push({ what, fix });
  const on = runner.where ? ` on ${runner.where}` : '';

  // 0. The version agrees with the CHANGELOG, the flavour payload and (in a tag build) the git tag.
  //    A real build refuses a mismatch (exit 2); a dry run only warns, so any --tag can be previewed.
  try {
    checkVersionsAgree({
      definitionVersion: d.version,
      changelogPath: join(dirname(d.file), 'CHANGELOG.md'),
      payloadVersionFile: join(d.flavours.source, `${d.flavour}.d`, 'image-version'),
      ...(d.versionSource ? { versionSource: d.versionSource } : {}),
    });
  } catch (error) {
    refuse(ctx, error as Error);
  }

  // The release on the build date (admitted before the build; here it is shown and warned about).
  const life = ctx.lifecycle;
  if (life) {
    ctx.note(`# ${life.note}`);
    say(life.note);
    const warn = (w: string) => { ctx.warnings.push(w); say(`warning: ${w}`); };
    if (life.status === 'near-end') warn(life.note);
    if (life.status === 'end-of-life') {
      warn(`BUILDING FreeBSD ${d.freebsd.potRelease} PAST ITS END OF LIFE (${life.eol}): no security fixes since; allowed because: ${d.freebsd.eolAllowance}`);
    }
    const newer = newerMinor(d.freebsd.potRelease, buildDate());
    if (newer && life.status !== 'end-of-life') say(`note: FreeBSD ${newer} is out; a Nomad client on ${d.freebsd.major}.x runs it (freebsd.releases)`);
  }

  // Verdicts come only from real answers: the plan records each probe but knows none of them.

  // 1. The host: FreeBSD, the image's architecture, a kernel at least as new as the jail's release.
  const uname = await runner.run('uname', ['-s', '-r', '-m', '-p'], { allowFailure: true });
  const host = parseUname(uname.stdout);
  if (answered(uname)) {
    if (host.system !== 'FreeBSD') {
      throw new UserError(
        `${runner.where ? `the builder ${runner.where}` : 'this host'} runs ${host.system || 'an unknown system'}, not FreeBSD: pot builds need a FreeBSD builder (prepare one with scripts/prepare-builder.sh); run with --dry-run to see the plan here`,
      );
    }
    if (host.machine !== d.freebsd.arch) {
      add(`the builder is ${host.machine} but the image is ${d.freebsd.arch}`, `build on an ${d.freebsd.arch} builder or pass --arch ${host.machine}`);
    }
    if (majorOf(host.release) < d.freebsd.major) {
      const why = `the builder runs FreeBSD ${host.release}, and a jail cannot run a newer major (${d.freebsd.potRelease}) than its host`;
      if (d.freebsd.requested === 'default') {
        throw new ReleaseSkipped(`${why}; build it on a FreeBSD ${d.freebsd.major}.x builder`);
      }
      add(why, `build it on a FreeBSD ${d.freebsd.major}.x builder (CI: the release workflow's matrix)`);
    }
  }

  // 2. root
  const id = await runner.run('id', ['-u'], { allowFailure: true });
  if (answered(id) && id.stdout.trim() !== '0') add(`not running as root${on}`, runner.where ? 'connect as root: --builder ssh://root@HOST' : 'run it as root: sudo npm run build-image (or doas)');

  // 3. pot installed and initialised, with room in its ZFS root.
  const version = await readPotVersion(runner);
  if (version.known && !version.value) {
    add('pot is not installed', 'pkg install pot && pot init (or run scripts/prepare-builder.sh)');
  } else {
    if (version.value) {
      ctx.summary.potVersion = version.value;
      say(`pot ${version.value}`);
      const tooOld = potTooOld(version.value);
      if (tooOld) add(tooOld, 'pkg upgrade pot');
    }
    // pot refuses every sub-command while its group is missing (common.sh _conf_check).
    const group = await runner.run('getent', ['group', 'pot'], { allowFailure: true });
    if (answered(group) && group.exitCode !== 0) add("the group 'pot' is missing (pot refuses to run without it)", 'pw groupadd pot');
    const config = await readPotConfig(runner, 'zfs_root');
    const zfsRoot = config.planned ? "<zfs_root>" : config.value;
    if (config.failure) {
      add(`pot is not initialised (pot config: ${config.failure})`, 'pot init (set POT_ZFS_ROOT and POT_FS_ROOT in /usr/local/etc/pot/pot.conf first if the defaults do not fit)');
    } else if (!zfsRoot) {
      add('pot has no ZFS root configured', 'set POT_ZFS_ROOT in /usr/local/etc/pot/pot.conf, then pot init');
    } else {
      const zfs = await runner.run('zfs', ['list', '-H', '-p', '-o', 'name,avail', zfsRoot], { allowFailure: true });
      const avail = zfs.exitCode === 0 ? parseZfsAvail(zfs.stdout) : undefined;
      if (!answered(zfs)) {
        // nothing known
      } else if (avail === undefined) {
        add(`pot is not initialised (no ZFS dataset ${zfsRoot})`, 'pot init');
      } else if (avail < MIN_POT_ROOT_BYTES) {
        add(`only ${formatBytes(avail)} free in ${zfsRoot}, the build needs ${formatBytes(MIN_POT_ROOT_BYTES)}`,
          `free space in the pool: pot prune; zfs list -o space -r ${zfsRoot}`);
      }
    }

    // 4. No pot of the same name left over, nor a smoke-test clone of one (a clone pins its
    //    origin's snapshot: `pot destroy` of the origin fails while the clone exists).
    const clones = (await potList(runner, { allowFailure: true })).filter((n) => n.startsWith(`${d.potName}-smoke-`));
    if (clones.length) {
      add(`smoke-test clone${clones.length > 1 ? 's' : ''} ${clones.join(', ')} left over from an earlier build${on}`, clones.map((c) => `pot destroy -F -p ${c}`).join('; '));
    }
    const info = await runner.run(POT, infoArgs(d.potName), { allowFailure: true });
    if (answered(info) && info.exitCode === 0) {
      add(`a pot named ${d.potName} is left over from an earlier build${on}`, `pot destroy -F -p ${d.potName}`);
    }
  }

  // 4b. The temporary folders of an earlier build of this pot that could not clean up (a dropped connection, a reboot).
  const leftovers = await runner.listTemp(builderDirPrefix(d.potName));
  if (leftovers.length) {
    add(`temporary folder${leftovers.length > 1 ? 's' : ''} ${leftovers.join(', ')} left over from an earlier build${on}`, `rm -rf ${leftovers.map(shellQuote).join(' ')}`);
  }

  // 5. The release known to pot (it checks -b against freebsd-release-manifests).
  const manifests = await runner.run('pkg', ['info', '-l', 'freebsd-release-manifests'], { allowFailure: true });
  if (answered(manifests)) {
    if (manifests.exitCode !== 0) {
      add('freebsd-release-manifests is not installed (pot checks releases against it)', 'pkg install freebsd-release-manifests');
    } else if (!knownReleases(manifests.stdout, host.machine, host.processor).includes(d.freebsd.potRelease)) {
      // pot's _is_valid_release: a file /usr/local/share/freebsd/MANIFESTS/<machine>-<machine_arch>-<N.M>-RELEASE for the host's machine.
      const known = knownReleases(manifests.stdout, host.machine, host.processor);
      add(`pot does not know FreeBSD ${d.freebsd.potRelease} on ${host.machine}${known.length ? ` (known: ${known.join(', ')})` : ''}`,
        `pkg upgrade freebsd-release-manifests, or pass a known --release`);
    }
  }

  // 5b. The release itself: its base (cached with the MANIFEST's sha256, or downloadable), the
  //     repository name its pkg.conf uses, and its package repository with every origin.
  await checkBase(ctx, add);
  await checkRepositoryName(ctx, add);
  await checkPackageRepository(ctx, add);

  // 5c. DNS inside the jail: with a bridge network the jail gets the host's resolv.conf, where
  //     127.0.0.1 is the jail's own loopback, so pkg cannot resolve anything in it.
  if (d.pot.network !== 'inherit') {
    const resolv = await runner.run('cat', [onHost('/etc/resolv.conf')], { allowFailure: true, purpose: 'look for a resolver the jail can reach (not 127.0.0.1/::1)' });
    if (answered(resolv)) {
      const problem = resolvConfProblem(resolv.exitCode === 0 ? resolv.stdout : '');
      if (problem) add(problem.what, problem.fix);
    }
  }

  // 6. Stock flavours our chain starts with (pot ships fbsd-update in its flavour folder).
  for (const stock of beforeFlavours(ctx)) {
    if (flavourFiles(d.flavours.source, stock).length) continue; // ours: staged with the chain
    const path = join(d.flavours.installDir, stock);
    const found = await runner.run('test', ['-e', path, '-o', '-e', `${path}.sh`], { allowFailure: true });
    if (answered(found) && found.exitCode !== 0) {
      add(`the stock flavour ${stock} is missing from ${d.flavours.installDir}${on}`, 'pkg install -f pot (it ships fbsd-update)');
    }
  }

  // 6b. pot's public-bridge network (vnet) needs a kernel with VIMAGE.
  if (d.pot.network === 'public-bridge') {
    const vimage = await runner.run('sysctl', ['-n', 'kern.features.vimage'], { allowFailure: true });
    if (answered(vimage) && vimage.stdout.trim() !== '1') {
      add('the kernel has no VIMAGE (kern.features.vimage), which the public-bridge network needs',
        'boot a GENERIC kernel (it has VIMAGE since FreeBSD 12.0), or pass --network inherit');
    }
  }

  // 7. The output folder on this machine: writable, with room, no artifacts of this tag already there.
  const out = d.export.output;
  let writable = true;
  try {
    await home.makeDir(out);
    writable = await home.writable(out);
  } catch {
    writable = false;
  }
  if (!writable) add(`the output folder ${out} is not writable`, `pass --output DIR, or chmod u+w ${out}`);
  else {
    const df = await home.run('df', ['-P', '-k', out], { allowFailure: true });
    const avail = df.exitCode === 0 ? parseDfAvail(df.stdout) : undefined;
    if (avail !== undefined && avail < MIN_OUTPUT_BYTES) {
      add(`only ${formatBytes(avail)} free in ${out}, the image needs ${formatBytes(MIN_OUTPUT_BYTES)}`, `free space there or pass --output DIR`);
    }
  }
  const existing: string[] = [];
  for (const p of finalArtifactPaths(ctx.artifacts)) if (await home.exists(p)) existing.push(p);
  if (existing.length) {
    add(`${existing[0]} already exists from an earlier build of ${d.tag}`,
      `rm -f ${ctx.artifacts.xz}* or bump the version (image/image.yaml's version and a CHANGELOG entry)`);
  }

  // 8. The signing key, on this machine, when one is configured: readable, and able to sign (the sign
  //    step's own check, so a wrong passphrase or a mismatched public key fails now, not after the long build).
  const readable = d.sign.key ? await home.run('test', ['-r', d.sign.key], { allowFailure: true }) : undefined;
  if (readable && answered(readable) && readable.exitCode !== 0) {
    add(`the signing key ${d.sign.key} is not readable`, 'check sign.key / --secret-key (make one with: pot-image keygen --public-key K.pub --secret-key K.sec)');
  } else {
    try {
      if (d.sign.key) await home.inProcess(`# check that ${shellQuote(d.sign.key)} can sign (passphrase, public key)`, () => checkSigningSetup(ctx));
      else await checkSigningSetup(ctx);
    } catch (error) {
      add(oneLine(error), ''); // its message already says what to do
    }
  }

  if (problems.length) {
    const list = problems.map((p, i) => `(${i + 1}) ${p.what}${p.fix ? `: ${p.fix}` : ''}`).join('; ');
    throw new UserError(`${problems.length} problem${problems.length > 1 ? 's' : ''} ${runner.where ? `on the builder ${runner.where}` : 'on this builder'}: ${list}`);
  }
}

export function preflightTask(): ListrTask<BuildContext> {
  return {
    title: 'preflight',
    task: async (ctx, task) => {
      task.title = `preflight: check the builder for ${ctx.definition.potName}`;
      await runPreflight(ctx, (line) => { task.output = line; });
    },
  };
}
