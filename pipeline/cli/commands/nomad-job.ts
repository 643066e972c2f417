import type { Command } from '../command.js';
import { boolArg, stringArg } from '../command.js';
import { DEFAULT_DEFINITION, loadDefinition, loadDefinitions } from '../../definition/load.js';
import { checkJobFile, renderJobFor, writeJobFile } from '../../nomad/job-file.js';
import { readParamsFile } from '../../nomad/params-file.js';

const command: Command = {
  name: 'nomad-job',
  summary: 'write the Nomad job for the image, or --check a job file against it',
  usage: [
    'usage: pot-image nomad-job [--repo-url URL] [--tag TAG] [--release R] [--datacenter DC]...',
    '                           [--params FILE] [--plain-env] [--control-key FILE] [--dynamic-ports]',
    '                           [--service-provider consul|nomad] [--out FILE]',
    '       pot-image nomad-job --check FILE [--repo-url URL] [--tag TAG] [--release R]',
    '',
    'Writes the Nomad job (HCL) that runs the image: pot name and tag from the image',
    'definition, the repository from --repo-url or publish.public_url. Without --params',
    'it writes the example job (image/matrix-synapse.nomad).',
    '',
    '  --repo-url URL      repository base URL (default: publish.public_url)',
    '  --tag TAG           image tag (default: the definition version)',
    '  --release R         FreeBSD release of the image, e.g. 15.1 (default: the first of freebsd.releases);',
    '                      choose the one your Nomad clients run (image/README.md)',
    '  --datacenter DC     Nomad datacenter, repeatable (default: dc1)',
    '  --params FILE       KEY=VALUE lines of image parameters (secrets stay out: they',
    '                      come from the Nomad Variable nomad/jobs/matrix-synapse)',
    '  --plain-env         put the secrets from --params in env {} instead (simple, less safe)',
    '  --control-key FILE  host path of the control user\'s public key (default /root/.ssh/id_rsa.pub)',
    '  --dynamic-ports     let Nomad pick the host ports (default: static 80, 443, 8448);',
    '                      for a proxy in front that finds the service through Consul',
    '  --service-provider P  consul (default) or nomad: who registers the service and runs',
    '                      its health check (nomad: no Consul needed, Nomad 1.4 or later)',
    '  --out FILE          write here instead of standard output',
    '  --check FILE        check a job file: pot name, tag, image URL (when known), mount at /mnt,',
    '                      required parameters, ports, health check; exit 1 on any problem',
    `  --definition FILE   image definition (default ${DEFAULT_DEFINITION})`,
  ].join('\n'),
  options: {
    'repo-url': { type: 'string' },
    tag: { type: 'string' },
    release: { type: 'string' },
    datacenter: { type: 'string', multiple: true },
    params: { type: 'string' },
    'plain-env': { type: 'boolean' },
    'control-key': { type: 'string' },
    'dynamic-ports': { type: 'boolean' },
    'service-provider': { type: 'string' },
    out: { type: 'string' },
    check: { type: 'string' },
    definition: { type: 'string' },
  },
  async run(args) {
    const release = stringArg(args, 'release');
    const file = stringArg(args, 'definition') ?? DEFAULT_DEFINITION;
    const definition = loadDefinition(file, release ? { release } : {});
    if (!release) {
      const others = loadDefinitions(file).slice(1).map((d) => d.freebsd.potRelease);
      if (others.length) console.error(`note: this is the job for FreeBSD ${definition.freebsd.potRelease} clients (${definition.potName}); for the others pass --release ${others.join(' or --release ')}`);
    }
    const repoUrl = stringArg(args, 'repo-url');
    const tag = stringArg(args, 'tag');

    const checkPath = stringArg(args, 'check');
    if (checkPath !== undefined) {
      const result = await checkJobFile(checkPath, definition, { repoUrl, tag });
      for (const note of result.notes) console.error(`${checkPath}: note: ${note}`);
      for (const problem of result.problems) console.error(`${checkPath}: ${problem}`);
      if (result.problems.length > 0) {
        console.error(`${checkPath}: ${result.problems.length} problem${result.problems.length > 1 ? 's' : ''}; fix them or write a fresh job with 'pot-image nomad-job'`);
        return 1;
      }
      const given = Object.entries(result.parameters).map(([k, where]) => `${k}(${where})`).join(' ');
      console.log(`${checkPath}: ok: ${definition.potName} ${tag ?? definition.version}, data at /mnt, parameters ${given}`);
      return 0;
    }

    const paramsPath = stringArg(args, 'params');
    const text = renderJobFor(definition, {
      repoUrl,
      tag,
      datacenters: args.values.datacenter as string[] | undefined,
      params: paramsPath === undefined ? undefined : readParamsFile(paramsPath),
      plainEnv: boolArg(args, 'plain-env'),
      controlKey: stringArg(args, 'control-key'),
      dynamicPorts: boolArg(args, 'dynamic-ports'),
      serviceProvider: stringArg(args, 'service-provider'),
    });
    const out = stringArg(args, 'out');
    if (out === undefined) process.stdout.write(text);
    else {
      writeJobFile(out, text);
      console.error(`wrote ${out}`);
    }
    return 0;
  },
};
export default command;
