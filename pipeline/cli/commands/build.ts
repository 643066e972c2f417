// pot-image build (npm run build-image): build, export, check, sign and
// publish the image described by image/image.yaml; --dry-run prints the plan.
import { writeFileSync } from 'node:fs';
import { boolArg, printJson, stringArg, type Command, type ParsedArgs } from '../command.js';
import { checkRepositoryFolder, cliPath, definitionText } from '../inputs.js';
import { formatSummary, type ReleaseSummary } from '../summary.js';
import { UserError } from '../../errors.js';
import { formatPlan } from '../../builder/plan-host.js';
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
  tag: { type: 'string' },
  output: { type: 'string' },
  compression: { type: 'string' },
  network: { type: 'string' },
  'flavour-dir': { type: 'string' },
  'flavour-install-dir': { type: 'string' },
  'secret-key': { type: 'string' },
  'public-key': { type: 'string' },
  to: { type: 'string' },
  create: { type: 'boolean' },
  'public-url': { type: 'string' },
  builder: { type: 'string' },
  'dry-run': { type: 'boolean' },
  keep: { type: 'boolean' },
  'require-signature': { type: 'boolean' },
  'skip-smoke-test': { type: 'boolean' },
  rebuild: { type: 'boolean' },
  'allow-older': { type: 'boolean' },
  'no-publish': { type: 'boolean' },
};

export const buildUsage = (name: string) => `usage: pot-image ${name} [options]

${name === 'plan' ? 'Print the plan of a build: the commands it would run, grouped by step, with the host each\nruns on; nothing is run (any OS, no root). The same as build --dry-run.' : 'Build the pot image on a FreeBSD builder: preflight, stage flavours, create, snapshot,\nacceptance, export, check, sign, publish; cleanup always runs. Ends with a summary (image,\ntag, size, Skein-1024 digest, signing key, repository, time per step).'}

image definition (each overrides image/image.yaml):
  --definition FILE          the image definition (default ${DEFAULT_DEFINITION})
  --release N.M              FreeBSD release, e.g. 14.5 (names the pot: ...-14_5); repeat it to
                             build several; default: freebsd.releases (one image each)
  --allow-eol REASON         build a release past its end of life anyway (base from FreeBSD's
                             archive, the project's update flavour, loud warnings)
  --arch amd64|arm64         architecture
  --tag X.Y.Z                image version = export tag (semver)
  --output DIR               where the artifacts and the build log go
  --compression 0-9          xz level of pot export
  --network TYPE             pot network type: inherit or public-bridge
  --flavour-dir DIR          flavour sources (default flavours/)
  --flavour-install-dir DIR  pot's flavour folder (default /usr/local/etc/pot/flavours)
  --secret-key FILE          signify secret key;  --public-key FILE  its public key
  --to DIR|URL               repository;  --public-url URL  where clients import from
  --create                   make the repository folder and its missing parents (without it a
                             missing folder is made only when its parent exists)
  --builder ssh://[user@]host[:port]
                             run pot on that FreeBSD builder over SSH (default: this machine);
                             signing, publishing and verifying stay here, the key never leaves

behaviour:
${name === 'plan' ? '' : '  --dry-run                  print the plan instead of building (any OS, no root)\n'}  --keep                     keep the build pot afterwards (default: destroyed, also on failure)
  --require-signature        fail instead of publishing an unsigned image
  --skip-smoke-test          skip the acceptance smoke test (loud)
  --rebuild                  build even when nothing changed since the last published tag
  --allow-older              allow publishing a tag lower than the newest published one
  --no-publish               build and sign, but do not publish`;

function overridesOf(args: ParsedArgs): DefinitionOverrides {
  const publishTo = stringArg(args, 'to');
  return {
    releases: (args.values.release as string[] | undefined) ?? undefined,
    allowEol: stringArg(args, 'allow-eol'),
    arch: stringArg(args, 'arch'),
    version: stringArg(args, 'tag'),
    output: cliPath(stringArg(args, 'output')),
    compression: stringArg(args, 'compression'),
    network: stringArg(args, 'network'),
    flavourDir: cliPath(stringArg(args, 'flavour-dir')),
    installDir: cliPath(stringArg(args, 'flavour-install-dir')),
    signKey: cliPath(stringArg(args, 'secret-key')),
    publicKey: cliPath(stringArg(args, 'public-key')),
    publishTo: publishTo && !/^[a-z][a-z0-9+.-]*:\/\//i.test(publishTo) ? cliPath(publishTo) : publishTo,
    publicUrl: stringArg(args, 'public-url'),
    builder: stringArg(args, 'builder'),
  };
}

/** The summary a maintainer pastes into a release note (also in --json as `release`). */
function releaseSummary(result: BuildResult, totalMs: number): ReleaseSummary {
  const { ctx } = result;
  const s = ctx.summary as {
    artifacts?: { xz?: { size?: number } };
    digest?: { hex?: string };
    signature?: { signed?: boolean; keynum?: string };
    publish?: { to?: string; verifiedFrom?: string };
  };
  return {
    image: ctx.definition.potName,
    tag: ctx.definition.tag,
    ...(s.artifacts?.xz?.size !== undefined ? { size: s.artifacts.xz.size } : {}),
    ...(s.digest?.hex ? { skein1024: s.digest.hex } : {}),
    ...(s.signature ? { keyNumber: s.signature.signed ? s.signature.keynum ?? null : null } : {}),
    ...(s.publish?.to ? { repository: s.publish.to } : {}),
    ...(s.publish?.verifiedFrom ? { importFrom: s.publish.verifiedFrom } : {}),
    steps: ctx.durations,
    totalMs,
  };
}

/** summaryOf plus the release summary (a real build) or the plan by step (a dry run). */
function jsonOf(result: BuildResult, options: BuildOptions, totalMs: number): Record<string, unknown> {
  return { ...summaryOf(result), ...(options.dryRun ? { planSteps: result.planSteps } : { summary: releaseSummary(result, totalMs) }) };
}

export async function buildCommand(args: ParsedArgs, forceDryRun: boolean): Promise<number> {
  const started = Date.now();
  const file = cliPath(stringArg(args, 'definition')) ?? DEFAULT_DEFINITION;
  // Read asynchronously: a signal while a slow source is read stops the command.
  const text = await definitionText(args);
  const definitions = loadDefinitions(file, overridesOf(args), undefined, text);
  // Every requested release is judged on the build date before anything runs (exit 2 for end of life).
  const verdicts = admitReleases(definitions, buildDate());
  const options: BuildOptions = {
    dryRun: forceDryRun || boolArg(args, 'dry-run'),
    keep: boolArg(args, 'keep'),
    verbose: args.verbose,
    json: args.json,
    requireSignature: boolArg(args, 'require-signature'),
    skipSmokeTest: boolArg(args, 'skip-smoke-test'),
    rebuild: boolArg(args, 'rebuild'),
    allowOlder: boolArg(args, 'allow-older'),
    noPublish: boolArg(args, 'no-publish'),
  };
  // A mistyped repository folder is refused now, not created after an hour of building.
  const publishTo = definitions[0]?.publish.to;
  if (!options.dryRun && !options.noPublish && publishTo) {
    const folder = await checkRepositoryFolder(publishTo, boolArg(args, 'create'), false);
    if (folder === 'will be created') process.stderr.write(`note: the repository folder ${publishTo} does not exist yet: publishing will create it\n`);
  }
  const results: BuildResult[] = [];
  for (const definition of definitions) {
    const result = await runBuild(definition, options, { stdout: process.stdout, stderr: process.stderr, env: process.env, lifecycle: verdicts.get(definition.freebsd.potRelease) });
    results.push(result);
    report(result, options, Date.now() - started);
    // Ctrl-C or a failure stops the run: the next release would meet the same builder (CI builds each release in its own job).
    if (result.ctx.interrupted || result.code !== 0) break;
  }
  const summaries = results.map((r) => jsonOf(r, options, Date.now() - started));
  if (options.json) {
    printJson(results.length === 1 ? summaries[0] : { ok: results.every((r) => r.code === 0), builds: summaries });
  }
  if (results.length > 1) {
    for (const r of results) process.stderr.write(`${r.ctx.definition.freebsd.potRelease}: ${outcome(r)}\n`);
  }
  const failed = results.find((r) => r.code !== 0);
  if (failed) {
    const done = results.filter((r) => r !== failed).map((r) => r.ctx.definition.freebsd.potRelease);
    const left = definitions.slice(results.length).map((d) => d.freebsd.potRelease);
    const message = `${failed.error ?? 'build failed'}${done.length ? ` (FreeBSD ${failed.ctx.definition.freebsd.potRelease}; ${done.join(', ')} done before)` : ''}${left.length ? `; not attempted: ${left.join(', ')}` : ''}`;
    // With --json the document above carries the error; the one line goes to stderr.
    if (options.json) {
      process.stderr.write(`pot-image: ${message}\n`);
      return failed.code;
    }
    throw new UserError(message, failed.code);
  }
  return 0;
}

function outcome(r: BuildResult): string {
  if (r.skipped) return `skipped (${r.skipped})`;
  if (r.unchanged) return `nothing built (${r.unchanged})`;
  if (r.code !== 0) return `failed: ${r.error ?? 'build failed'}`;
  return r.plan ? 'planned' : `built ${r.ctx.artifacts.xz}`;
}

function report(result: BuildResult, options: BuildOptions, totalMs: number): void {
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
    if (result.code === 0 && !options.dryRun) writeFileSync(ctx.artifacts.summary, `${JSON.stringify(jsonOf(result, options, totalMs), null, 2)}\n`);
  } else if (result.planSteps && result.code === 0) {
    process.stdout.write(`${formatPlan(result.planSteps, `A build of ${ctx.definition.potName} ${ctx.definition.tag}`)}\n`);
  } else if (result.code === 0) {
    process.stdout.write(`built ${ctx.artifacts.xz}\n${formatSummary('summary', releaseSummary(result, totalMs))}\n`);
  }
}

const command: Command = {
  name: 'build',
  summary: 'build, export, sign and publish the image (npm run build-image); --dry-run prints the plan',
  usage: buildUsage('build'),
  options: buildOptions,
  json: true,
  cleansUpOnSignal: true,
  run: (args) => buildCommand(args, false),
};
export default command;
