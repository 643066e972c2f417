// pot-image build (npm run build-image): build, export, check, sign and
// publish the image described by image/image.yaml; --dry-run prints the plan.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { boolArg, stringArg, type Command, type ParsedArgs } from '../command.js';
import { UserError } from '../../errors.js';
import { DEFAULT_DEFINITION, loadDefinition } from '../../definition/load.js';
import type { DefinitionOverrides } from '../../definition/types.js';
import type { BuildOptions } from '../../steps/context.js';
import { runBuild, summaryOf } from '../../steps/run-build.js';
import type { ParseArgsConfig } from 'node:util';

export const buildOptions: NonNullable<ParseArgsConfig['options']> = {
  definition: { type: 'string' },
  release: { type: 'string' },
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
  --release N.M              FreeBSD release, e.g. 13.0 or 14.3 (names the pot: ...-14_3)
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
    release: stringArg(args, 'release'),
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
  const definition = loadDefinition(file, overridesOf(args));
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
  const result = await runBuild(definition, options, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  const { ctx } = result;

  for (const w of ctx.warnings) process.stderr.write(`warning: ${w}\n`);
  if (result.unchanged) {
    // Nothing was built: say why on stdout, write no summary file (there is no image to describe).
    if (options.json) process.stdout.write(`${JSON.stringify(summaryOf(result), null, 2)}\n`);
    else process.stdout.write(`nothing built: ${result.unchanged}\n`);
    return 0;
  }
  if (options.json) {
    const summary = summaryOf(result);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (result.code === 0 && !options.dryRun) writeFileSync(ctx.artifacts.summary, `${JSON.stringify(summary, null, 2)}\n`);
  } else if (result.plan && result.code === 0) {
    process.stdout.write(`${result.plan.join('\n')}\n`);
  } else if (result.code === 0) {
    process.stdout.write(`built ${ctx.artifacts.xz}\n`);
  }
  if (result.code !== 0) throw new UserError(result.error ?? 'build failed', result.code);
  return 0;
}

const command: Command = {
  name: 'build',
  summary: 'build, export, sign and publish the image (npm run build-image); --dry-run prints the plan',
  usage: buildUsage('build'),
  options: buildOptions,
  run: (args) => buildCommand(args, false),
};
export default command;
