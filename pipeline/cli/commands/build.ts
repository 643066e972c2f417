// pot-image build (npm run build-image): build, export, check, sign and
// publish the image described by image/image.yaml; --dry-run prints the plan.
import { writeFileSync } from 'node:fs';
import { boolArg, printJson, stringArg, type Command, type ParsedArgs } from '../command.js';
import { checkRepositoryFolder, cliPath, definitionOf } from '../inputs.js';
import { formatSummary, type ReleaseSummary } from '../summary.js';
import { UserError } from '../../errors.js';
import { formatPlan } from '../../runner/plan-runner.js';
import { DEFAULT_DEFINITION } from '../../definition/load.js';
import type { DefinitionOverrides } from '../../definition/types.js';
import type { BuildOptions } from '../../steps/context.js';
import { runBuild, summaryOf, type BuildResult } from '../../steps/run-build.js';
import type { ParseArgsConfig } from 'node:util';

export const buildOptions: NonNullable<ParseArgsConfig['options']> = {
  definition: { type: 'string' },
  release: { type: 'string' },
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
  'public-url': { type: 'string' },
  create: { type: 'boolean' },
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
  --release N.M              FreeBSD release, e.g. 13.0 or 14.3 (names the pot: ...-14_3)
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
    release: stringArg(args, 'release'),
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

export async function buildCommand(args: ParsedArgs, forceDryRun: boolean): Promise<number> {
  const started = Date.now();
  const definition = await definitionOf(args, overridesOf(args));
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
  if (!options.dryRun && !options.noPublish && definition.publish.to) {
    const folder = await checkRepositoryFolder(definition.publish.to, boolArg(args, 'create'), false);
    if (folder === 'will be created') process.stderr.write(`note: the repository folder ${definition.publish.to} does not exist yet: publishing will create it\n`);
  }
  const result = await runBuild(definition, options, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  const { ctx } = result;

  for (const w of ctx.warnings) process.stderr.write(`warning: ${w}\n`);
  if (result.unchanged) {
    // Nothing was built: say why on stdout, write no summary file (there is no image to describe).
    if (options.json) printJson(summaryOf(result));
    else process.stdout.write(`nothing built: ${result.unchanged}\n`);
    return 0;
  }
  const release = releaseSummary(result, Date.now() - started);
  if (options.json) {
    const summary = { ...summaryOf(result), ...(options.dryRun ? { planSteps: result.planSteps } : { release }) };
    printJson(summary);
    if (result.code === 0 && !options.dryRun) writeFileSync(ctx.artifacts.summary, `${JSON.stringify(summary, null, 2)}\n`);
  } else if (result.planSteps && result.code === 0) {
    process.stdout.write(`${formatPlan(result.planSteps, `A build of ${definition.potName} ${definition.tag}`)}\n`);
  } else if (result.code === 0) {
    process.stdout.write(`built ${ctx.artifacts.xz}\n${formatSummary('summary', release)}\n`);
  }
  if (result.code !== 0) {
    // With --json the document above already carries the error; the one line goes to stderr.
    if (options.json) {
      process.stderr.write(`pot-image: ${result.error ?? 'build failed'}\n`);
      return result.code;
    }
    throw new UserError(result.error ?? 'build failed', result.code);
  }
  return 0;
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
