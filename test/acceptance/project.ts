// A throwaway project (package.json, image/image.yaml, flavours/) for tests
// that need a real image definition and flavour files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDefinition } from '../../pipeline/definition/load.js';
import type { DefinitionOverrides, ImageDefinition } from '../../pipeline/definition/types.js';
import { tempDir } from '../helpers/tmp.js';

export const FLAVOUR = 'matrix-synapse-nomad';

export interface TestProject {
  root: string;
  file: string;
  write(extraYaml?: string, version?: string): void;
  load(overrides?: DefinitionOverrides): ImageDefinition;
}

export function testProject(extraYaml = ''): TestProject {
  const root = tempDir('acc-project-');
  writeFileSync(join(root, 'package.json'), '{"name":"t","private":true}\n');
  mkdirSync(join(root, 'image'));
  const flv = join(root, 'flavours');
  mkdirSync(join(flv, `${FLAVOUR}.d`), { recursive: true });
  writeFileSync(join(flv, FLAVOUR), 'set-attribute -A persistent -V NO\ncopy-in -s /usr/local/etc/pot/flavours/matrix-synapse-nomad.d/cook -d /usr/local/bin/cook\n');
  writeFileSync(join(flv, `${FLAVOUR}.sh`), '#!/bin/sh\npkg install -y net-im/py-matrix-synapse\n');
  writeFileSync(join(flv, `${FLAVOUR}+4`), 'set-cmd -c "/usr/local/bin/cook"\n');
  writeFileSync(join(flv, `${FLAVOUR}.d`, 'cook'), '#!/bin/sh\necho cook\n');
  writeFileSync(join(flv, 'other-flavour'), 'set-attribute -A persistent -V YES\n');
  const file = join(root, 'image', 'image.yaml');
  const project: TestProject = {
    root,
    file,
    write(extra = extraYaml, version = '0.11.0') {
      writeFileSync(file, `# test definition\nflavour: ${FLAVOUR}\nversion: ${version}\nfreebsd:\n  release: "13.0"\n  arch: amd64\npot:\n  network: public-bridge\nexport:\n  output: out\npublish:\n  to: repo\n${extra}`);
    },
    load(overrides = {}) {
      return loadDefinition(file, overrides, root);
    },
  };
  project.write();
  return project;
}
