// pot-image build (npm run build-image): build, export, check, sign and
// publish the image described by image/image.yaml; --dry-run prints the plan.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { boolArg, stringArg, type Command, type ParsedArgs } from '../command.js';
import { UserError } from '../../errors.js';
import { DEFAULT_DEFINITION, loadDefinitions } from '../../definition/load.js';
import { admitReleases, buildDate } from '../../definition/lifecycle.js';
import type { DefinitionOverrides } from '../../definition/types.js';
import type { BuildOptions } from '../../steps/context.js';
import { runBuild, summaryOf, type BuildResult } from '../../steps/run-build.js';
import type { ParseArgsConfig } from 'node:util';

export const buildOptions: NonNullable<ParseArgsConfig['options']> = {
  definition: { type: 'string' },
  release: { type: 'string', multiple: true },
  'allow-eol': { type: 'string' },
  arch: { type: 'string' },
  version: { type: 'string' },
  output: { type: 'string' },
  compression: { type: 'string' },
  network: { type: 'string' },
  'flavour-dir': { type: 'string' },
  'flavour-install-dir': { type: 'string' },
  'sign-key': { type: 'string' },
  'public-key': { type: 'string' },
  'publish-to': { type: 'string' },
  'public-url': { type: 'string' },
  builder: { type: 'string' },
  'dry-run': { type: 'boolean' },
  keep: { type: 'boolean' },
  json: { type: 'boolean' },
  'require-signature': { type: 'boolean' },
  'skip-smoke-test': { type: 'boolean' },
  rebuild: { type: 'boolean' },
  'allow-older': { type: 'boolean' },
  'no-publish': { type: 'boolean' },
};

export const buildUsage = (name: string) => `usage: pot-image ${name} [options]

${name === 'plan' ? 'Print the commands a build would run, one per line, in order (same as build --dry-run).' : 'Build the pot image on a FreeBSD builder: preflight, stage flavours, create, snapshot,\nacceptance, export, check, sign, publish; cleanup always runs.'}

image definition (each overrides image/image.yaml):
  --definition FILE          the image definition (default ${DEFAULT_DEFINITION})
  --release N.M              FreeBSD release, e.g. 14.5 (names the pot: ...-14_5); repeat it to
                             build several; default: freebsd.releases (one image each)
  --allow-eol REASON         build a release past its end of life anyway (base from FreeBSD's
                             archive, the project's update flavour, loud warnings)
  --arch amd64|arm64         architecture
  --version X.Y.Z            image version = export tag (semver)
  --output DIR               where the artifacts and the build log go
  --compression 0-9          xz level of pot export
  --network TYPE             pot network type: inherit or public-bridge
  --flavour-dir DIR          flavour sources (default flavours/)
  --flavour-install-dir DIR  pot's flavour folder (default /usr/local/etc/pot/flavours)
  --sign-key FILE            signify secret key;  --public-key FILE  its public key
  --publish-to DIR|URL       repository;  --public-url URL  where clients import from
  --builder ssh://[user@]host[:port]
                             run pot on that FreeBSD builder over SSH (default: this machine);
                             signing, publishing and verifying stay here, the key never leaves

behaviour:
  --dry-run                  print the plan instead of building (any OS, no root)
  --keep                     keep the build pot afterwards (default: destroyed, also on failure)
  --json                     print a JSON summary on stdout (progress goes to stderr)
  --verbose                  also stream every command's output to the terminal
  --require-signature        fail instead of publishing an unsigned image
  --skip-smoke-test          skip the acceptance smoke test (loud)
  --rebuild                  build even when nothing changed since the last published tag
  --allow-older              allow publishing a tag lower than the newest published one
  --no-publish               build and sign, but do not publish`;

/** Paths given on the command line are relative to where the user is, not to the project. */
function cliPath(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? value : resolve(process.cwd(), value);
}

function overridesOf(args: ParsedArgs): DefinitionOverrides {
  const publishTo = stringArg(args, 'publish-to');
  return {
    releases: (args.values.release as string[] | undefined) ?? undefined,
    allowEol: stringArg(args, 'allow-eol'),
    arch: stringArg(args, 'arch'),
    version: stringArg(args, 'version'),
    output: cliPath(stringArg(args, 'output')),
    compression: stringArg(args, 'compression'),
    network: stringArg(args, 'network'),
    flavourDir: cliPath(stringArg(args, 'flavour-dir')),
    installDir: cliPath(stringArg(args, 'flavour-install-dir')),
    signKey: cliPath(stringArg(args, 'sign-key')),
    publicKey: cliPath(stringArg(args, 'public-key')),
    publishTo: publishTo && !/^[a-z][a-z0-9+.-]*:\/\//i.test(publishTo) ? cliPath(publishTo) : publishTo,
    publicUrl: stringArg(args, 'public-url'),
    builder: stringArg(args, 'builder'),
  };
}

export async function buildCommand(args: ParsedArgs, forceDryRun: boolean): Promise<number> {
  const file = cliPath(stringArg(args, 'definition')) ?? DEFAULT_DEFINITION;
  const definitions = loadDefinitions(file, overridesOf(args));
  // Every requested release is judged on the build date before anything runs (exit 2 for end of life).
  const verdicts = admitReleases(definitions, buildDate());
  const options: BuildOptions = {
    dryRun: forceDryRun || boolArg(args, 'dry-run'),
    keep: boolArg(args, 'keep'),
    verbose: args.verbose,
    json: boolArg(args, 'json'),
    requireSignature: boolArg(args, 'require-signature'),
    skipSmokeTest: boolArg(args, 'skip-smoke-test'),
    rebuild: boolArg(args, 'rebuild'),
    allowOlder: boolArg(args, 'allow-older'),
    noPublish: boolArg(args, 'no-publish'),
  };
  const results: BuildResult[] = [];
  for (const definition of definitions) {
    const result = await runBuild(definition, options, { stdout: process.stdout, stderr: process.stderr, env: process.env, lifecycle: verdicts.get(definition.freebsd.potRelease) });
    results.push(result);
    report(result, options);
    // Ctrl-C or a failure stops the run: the next release would meet the same builder (CI builds each release in its own job).
    if (result.ctx.interrupted || result.code !== 0) break;
  }
  const summaries = results.map((r) => summaryOf(r));
  if (options.json) {
    const doc = results.length === 1 ? summaries[0] : { ok: results.every((r) => r.code === 0), builds: summaries };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
  if (results.length > 1) {
    for (const r of results) process.stderr.write(`${r.ctx.definition.freebsd.potRelease}: ${outcome(r)}\n`);
  }
  const failed = results.find((r) => r.code !== 0);
  if (failed) {
    const done = results.filter((r) => r !== failed).map((r) => r.ctx.definition.freebsd.potRelease);
    const left = definitions.slice(results.length).map((d) => d.freebsd.potRelease);
    const message = `${failed.error ?? 'build failed'}${done.length ? ` (FreeBSD ${failed.ctx.definition.freebsd.potRelease}; ${done.join(', ')} done before)` : ''}${left.length ? `; not attempted: ${left.join(', ')}` : ''}`;
    throw new UserError(message, failed.code);
  }
  return 0;
}

/** One word or line per release for the closing list. */
function outcome(r: BuildResult): string {
  if (r.skipped) return `skipped (${r.skipped})`;
  if (r.unchanged) return `nothing built (${r.unchanged})`;
  if (r.code !== 0) return `failed: ${r.error ?? 'build failed'}`;
  return r.plan ? 'planned' : `built ${r.ctx.artifacts.xz}`;
}

/** What one release's build prints: warnings on stderr; the plan, the artifact or the reason nothing was built on stdout. */
function report(result: BuildResult, options: BuildOptions): void {
  const { ctx } = result;
  for (const w of ctx.warnings) process.stderr.write(`warning: ${w}\n`);
  if (result.skipped) {
    if (!options.json) process.stdout.write(`skipped FreeBSD ${ctx.definition.freebsd.potRelease}: ${result.skipped}\n`);
    return;
  }
  if (result.unchanged) {
    // Nothing was built: say why on stdout, write no summary file (there is no image to describe).
    if (!options.json) process.stdout.write(`nothing built: ${result.unchanged}\n`);
    return;
  }
  if (options.json) {
    if (result.code === 0 && !options.dryRun) writeFileSync(ctx.artifacts.summary, `${JSON.stringify(summaryOf(result), null, 2)}\n`);
  } else if (result.plan && result.code === 0) {
    process.stdout.write(`${result.plan.join('\n')}\n`);
  } else if (result.code === 0) {
    process.stdout.write(`built ${ctx.artifacts.xz}\n`);
  }
}

const command: Command = {
  name: 'build',
  summary: 'build, export, sign and publish the image (npm run build-image); --dry-run prints the plan',
  usage: buildUsage('build'),
  options: buildOptions,
  run: (args) => buildCommand(args, false),
};
export default command;
