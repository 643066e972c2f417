import type { Command } from '../command.js';
import { boolArg, printJson, stringArg } from '../command.js';
import { cliPath, definitionOf, requireFile } from '../inputs.js';
import { DEFAULT_DEFINITION, loadDefinitions } from '../../definition/load.js';
import { checkJobFile, renderJobFor, writeJobFile } from '../../nomad/job-file.js';
import { readParamsFile } from '../../nomad/params-file.js';

const command: Command = {
  name: 'nomad-job',
  summary: 'write the Nomad job for the image, or --check a job file against it',
  usage: [
    'usage: pot-image nomad-job [--public-url URL] [--tag TAG] [--release R] [--datacenter DC]...',
    '                           [--params FILE] [--plain-env] [--control-key FILE] [--dynamic-ports]',
    '                           [--service-provider consul|nomad] [--out FILE] [--json]',
    '       pot-image nomad-job --check FILE [--public-url URL] [--tag TAG] [--release R] [--json]',
    '',
    'Writes the Nomad job (HCL) that runs the image: pot name and tag from the image',
    'definition, the repository from --public-url or publish.public_url. Without --params',
    'it writes the example job (image/matrix-synapse.nomad).',
    '',
    '  --public-url URL    the URL clients import from (default: publish.public_url)',
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
    '  --json              the result as JSON: the check\'s problems, notes and parameters, or',
    '                      the job text and where it was written',
    `  --definition FILE   image definition (default ${DEFAULT_DEFINITION})`,
  ].join('\n'),
  options: {
    'public-url': { type: 'string' },
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
  json: true,
  async run(args) {
    const release = stringArg(args, 'release');
    const definition = await definitionOf(args, release ? { release } : {});
    const repoUrl = stringArg(args, 'public-url');
    const tag = stringArg(args, 'tag');

    const checkPath = cliPath(stringArg(args, 'check'));
    if (checkPath !== undefined) {
      await requireFile(checkPath, 'nomad-job: --check');
      const result = await checkJobFile(checkPath, definition, { repoUrl, tag });
      if (args.json) {
        printJson({ ok: result.problems.length === 0, file: checkPath, pot: definition.potName, tag: tag ?? definition.version,
          problems: result.problems, notes: result.notes, parameters: result.parameters });
        for (const problem of result.problems) console.error(`${checkPath}: ${problem}`);
        return result.problems.length === 0 ? 0 : 1;
      }
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

    if (!release) {
      const others = loadDefinitions(definition.file).slice(1).map((d) => d.freebsd.potRelease);
      if (others.length) console.error(`note: this is the job for FreeBSD ${definition.freebsd.potRelease} clients (${definition.potName}); for the others pass --release ${others.join(' or --release ')}`);
    }
    const paramsPath = cliPath(stringArg(args, 'params'));
    if (paramsPath !== undefined) await requireFile(paramsPath, 'nomad-job: --params');
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
    const out = cliPath(stringArg(args, 'out'));
    if (out !== undefined) {
      writeJobFile(out, text);
      console.error(`wrote ${out}`);
    }
    if (args.json) printJson({ ok: true, pot: definition.potName, tag: tag ?? definition.version, out: out ?? null, job: text });
    else if (out === undefined) process.stdout.write(text);
    return 0;
  },
};
export default command;
