// A throw-away project for loadDefinition: the real image/image.yaml with its flavour folder
// pointed at stub flavour files, so these tests do not depend on the flavour sources.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { loadDefinition } from '../../pipeline/definition/load.js';
import type { ImageDefinition } from '../../pipeline/definition/types.js';

export const SHIPPED_JOB = join(PROJECT_ROOT, 'image', 'matrix-synapse.nomad');
export const REAL_DEFINITION = join(PROJECT_ROOT, 'image', 'image.yaml');

export interface Fixture { root: string; definitionFile: string; definition: ImageDefinition }

/** edit: change the YAML text (e.g. set publish.public_url). */
export function fixtureProject(edit: (yaml: string) => string = (y) => y): Fixture {
  const root = tempDir('pot-image-nomad-');
  const flavours = join(root, 'flavours');
  mkdirSync(flavours);
  mkdirSync(join(root, 'image'));
  writeFileSync(join(root, 'package.json'), '{}\n');
  const yaml = readFileSync(REAL_DEFINITION, 'utf8');
  const flavour = /^flavour:\s*(\S+)/m.exec(yaml)?.[1] ?? 'matrix-synapse-nomad';
  for (const name of [flavour, `${flavour}+4`]) writeFileSync(join(flavours, name), '');
  const definitionFile = join(root, 'image', 'image.yaml');
  writeFileSync(definitionFile, edit(yaml.replace(/^(\s+source:).*$/m, `$1 ${flavours}`)));
  return { root, definitionFile, definition: loadDefinition(definitionFile, {}, root) };
}
