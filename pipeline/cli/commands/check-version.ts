import { dirname, join } from 'node:path';
import type { Command } from '../command.js';
import { printJson, stringArg } from '../command.js';
import { definitionOf } from '../inputs.js';
import { DEFAULT_DEFINITION } from '../../definition/load.js';
import { checkVersionsAgree } from '../../release/versions.js';

const command: Command = {
  name: 'check-version',
  summary: 'check that image.yaml, the top CHANGELOG entry and the release tag name one version',
  usage: [
    'usage: pot-image check-version [--tag vX.Y.Z] [--definition FILE] [--json]',
    '',
    'Checks that the version in the image definition equals the top entry of the',
    'CHANGELOG.md beside it and, on a release, the git tag (v0.11.0 <-> 0.11.0).',
    'The tag comes from --tag, else from GITHUB_REF_NAME when GITHUB_REF_TYPE=tag.',
    'Exit 0 when they agree, 2 with one line naming the mismatch otherwise.',
    '',
    `  --definition FILE  image definition (default ${DEFAULT_DEFINITION})`,
    '  --tag vX.Y.Z       the release tag to check',
  ].join('\n'),
  options: {
    tag: { type: 'string' },
    definition: { type: 'string' },
  },
  json: true,
  async run(args) {
    const definition = await definitionOf(args);
    const result = checkVersionsAgree({
      definitionVersion: definition.version,
      changelogPath: join(dirname(definition.file), 'CHANGELOG.md'),
      gitTag: stringArg(args, 'tag'),
      payloadVersionFile: join(definition.flavours.source, `${definition.flavour}.d`, 'image-version'),
    });
    if (args.json) {
      printJson({ ok: true, version: result.version, tag: result.tag ?? null });
      return 0;
    }
    const tag = result.tag ? `, tag ${result.tag}` : ' (no release tag to check)';
    console.log(`versions agree: ${result.version} (image definition, CHANGELOG, image-version${tag})`);
    return 0;
  },
};
export default command;
