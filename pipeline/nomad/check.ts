// Checks a parsed Nomad job against the image: the pot task's image/pot/tag, cook as the command,
// the data mount at /mnt, every required parameter set, current syntax, known driver options.
// Each problem is one line saying what is wrong and what to write instead.
import { blocks, labelledBlocks, type HclBody } from './hcl.js';
import { POT_DRIVER_OPTION_NAMES, POT_DRIVER_VERSION } from './driver-options.js';
import { COOK, DATA_IN_JAIL, DATA_ON_HOST, HEALTH_PATH, PARAMS_FILE_DESTINATION, PARAMS_FILE_IN_JAIL, PORTS, VARIABLE_PATH } from './job-spec.js';
import { FILE_ONLY_PARAMETERS, parameterByFlag, PARAMETER_NAMES, requiredParameters, SECRET_PARAMETERS } from './parameters.js';
import { unsafeInEnv, unsafeInEnvAdvice } from './params-file.js';
import { driverEntryProblem } from './host-paths.js';

export interface JobExpectations {
  potName: string;
  tag: string;
  /** When known (--repo-url or publish.public_url), config.image must name it. */
  repoUrl?: string;
}

export interface JobCheckResult {
  problems: string[];
  /** Not wrong, but worth saying (secrets in clear, ...). */
  notes: string[];
  /** Where each parameter was found: env, args or template. */
  parameters: Record<string, 'env' | 'args' | 'template'>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);
const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/** KEY= lines of a template's data (env with env = true; cook's parameters in its secrets file). */
export function templateEnvKeys(data: string): string[] {
  const keys: string[] = [];
  for (const line of data.split(/\r?\n/)) {
    const m = /^\s*(?:\{\{[^}]*\}\}\s*)?(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    if (m?.[1]) keys.push(m[1]);
  }
  return keys;
}

/** A template destination that is cook's parameter file: secrets/matrix-synapse.env in the task folder. */
function isParamsFileDestination(destination: string | undefined): boolean {
  const d = (destination ?? '').replace(/^\.\//, '').replace(/^\$\{NOMAD_SECRETS_DIR\}\//, 'secrets/');
  return d === PARAMS_FILE_DESTINATION;
}

/** Parameters given as cook flags in args: ["-d", "example.com", ...]. */
/** cook refuses NAME from its environment: where it must come from instead. */
function fileOnlyAdvice(name: string): string {
  return `${name} is refused by cook from the environment; it comes only from the Nomad Variable: a line ${name}={{ .${name} }} in the template with ` +
    `destination = "${PARAMS_FILE_DESTINATION}" and env = false, and 'nomad var put ${VARIABLE_PATH} ${name}=...'`;
}

function argsParameters(args: string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const p = parameterByFlag(args[i] ?? '');
    if (p && i + 1 < args.length) {
      found[p.name] = args[i + 1] ?? '';
      i++;
    }
  }
  return found;
}

export function checkJob(root: HclBody, expect: JobExpectations): JobCheckResult {
  const problems: string[] = [];
  const notes: string[] = [];
  const parameters: JobCheckResult['parameters'] = {};

  const jobs = labelledBlocks(root, 'job');
  if (jobs.length !== 1) {
    problems.push(`expected exactly one job block, found ${jobs.length}`);
    return { problems, notes, parameters };
  }
  const [, job] = jobs[0] as [string, HclBody];
  const potTasks: Array<{ group: HclBody; task: HclBody; name: string }> = [];
  for (const [, group] of labelledBlocks(job, 'group')) {
    for (const [name, task] of labelledBlocks(group, 'task')) {
      if (str(task.driver) === 'pot') potTasks.push({ group, task, name });
    }
  }
  if (potTasks.length !== 1) {
    problems.push(`expected one task with driver = "pot", found ${potTasks.length}`);
    return { problems, notes, parameters };
  }
  const { group, task, name } = potTasks[0] as { group: HclBody; task: HclBody; name: string };
  const at = `task "${name}"`;

  // --- driver config ---
  const config = blocks(task, 'config')[0] ?? {};
  for (const key of Object.keys(config)) {
    if (!POT_DRIVER_OPTION_NAMES.includes(key)) {
      problems.push(`${at}: config option '${key}' is not a pot driver option (nomad-pot-driver ${POT_DRIVER_VERSION} takes ${POT_DRIVER_OPTION_NAMES.join(', ')})`);
    }
  }
  const literal = (key: string, expected: string, hint: string) => {
    const actual = str(config[key]);
    if (actual === undefined) problems.push(`${at}: config.${key} is missing; set ${key} = "${expected}"${hint}`);
    else if (actual.includes('${')) problems.push(`${at}: config.${key} is the expression '${actual}', which --check cannot compare; write the literal "${expected}"`);
    else if (actual !== expected) problems.push(`${at}: config.${key} is "${actual}" but the image's is "${expected}"${hint}`);
  };
  literal('pot', expect.potName, ' (pot name <flavour>-<arch>-<major>_<minor> of the image definition)');
  literal('tag', expect.tag, ' (the image version)');
  // Without `command` pot runs the image's own start command (cook); the driver refuses args without it.
  if (config.command !== undefined || (strings(config.args) ?? []).length > 0) {
    literal('command', COOK, ' (cook configures and starts Synapse; the driver needs command when args are given)');
  }
  const image = str(config.image);
  if (image === undefined || image === '') {
    problems.push(`${at}: config.image is missing; set it to the repository URL the image is published at`);
  } else if (expect.repoUrl !== undefined && !image.includes('${') && !sameUrl(image, expect.repoUrl)) {
    problems.push(`${at}: config.image is "${image}" but the image is published at "${expect.repoUrl}"`);
  } else if (!/^(https?|file|ftp):\/\//.test(image) && !image.includes('${')) {
    problems.push(`${at}: config.image "${image}" is not a URL pot import can fetch from (http, https, file or ftp)`);
  }

  // copy/mount entries become `pot copy-in`/`mount-in` lines the client runs with sh -c.
  for (const option of ['copy', 'mount', 'mount_read_only']) {
    if (config[option] === undefined) continue;
    const entries = strings(config[option]);
    if (!entries) {
      problems.push(`${at}: config.${option} must be a list of "HOST_PATH:JAIL_PATH" strings`);
      continue;
    }
    for (const entry of entries) {
      const problem = driverEntryProblem(option, entry);
      if (problem) problems.push(`${at}: config.${problem}`);
    }
  }

  const mounts = strings(config.mount) ?? [];
  const dataMount = mounts.find((m) => m.split(':')[1] === DATA_IN_JAIL);
  if (!dataMount) {
    const seen = mounts.length ? ` (found ${mounts.map((m) => `"${m}"`).join(', ')})` : '';
    problems.push(`${at}: no mount puts the data at ${DATA_IN_JAIL} inside the jail${seen}; cook keeps its state under ${DATA_IN_JAIL}: use mount = ["${DATA_ON_HOST}:${DATA_IN_JAIL}"]`);
  } else if (!dataMount.split(':')[0]) {
    problems.push(`${at}: mount "${dataMount}" names no host folder; use "${DATA_ON_HOST}:${DATA_IN_JAIL}"`);
  }

  // --- ports: group network, port_map labels, no deprecated resources.network ---
  const networks = blocks(group, 'network');
  const labels = new Set(networks.flatMap((n) => labelledBlocks(n, 'port').map(([label]) => label)));
  if (networks.length === 0) problems.push(`group: no network block; add network { port "http" {} port "https" {} port "matrix" {} } at group level`);
  const portMapRaw = config.port_map;
  const portMap: Record<string, string> = {};
  for (const entry of Array.isArray(portMapRaw) ? portMapRaw : portMapRaw ? [portMapRaw] : []) {
    if (entry && typeof entry === 'object') for (const [k, v] of Object.entries(entry)) portMap[k] = str(v) ?? '';
  }
  for (const [label, port] of Object.entries(PORTS)) {
    if (portMap[label] === undefined) problems.push(`${at}: config.port_map has no '${label}'; map it to "${port}" (the jail's port)`);
    else if (!labels.has(label)) problems.push(`group network has no port "${label}" for port_map's '${label}'; add port "${label}" {}`);
  }
  const dynamic = networks.flatMap((n) => labelledBlocks(n, 'port')).filter(([, body]) => body.static === undefined).map(([label]) => label);
  if (dynamic.length > 0) {
    notes.push(`port${dynamic.length > 1 ? 's' : ''} ${dynamic.join(', ')} ${dynamic.length > 1 ? 'have' : 'has'} no static host port: clients, ACME and federation reach Synapse only through a proxy that finds the service`);
  }
  for (const res of blocks(task, 'resources')) {
    if (res.network !== undefined) problems.push(`${at}: resources { network } is deprecated since Nomad 0.12; move the ports to a group-level network block and drop mbits`);
  }

  // --- service health check ---
  const checks = blocks(task, 'service').concat(blocks(group, 'service')).flatMap((s) => blocks(s, 'check'));
  const health = checks.find((c) => str(c.type) === 'http' && str(c.path) === HEALTH_PATH);
  if (!health) problems.push(`${at}: no service check of type "http" on ${HEALTH_PATH}; add one so Nomad sees when Synapse is down`);

  // --- parameters: env, args, env templates ---
  const values: Record<string, string | undefined> = {};
  for (const env of blocks(task, 'env')) {
    for (const [k, v] of Object.entries(env)) {
      if (PARAMETER_NAMES.includes(k)) {
        parameters[k] = 'env';
        values[k] = str(v);
        if (unsafeInEnv(values[k] ?? '')) problems.push(`${at}: env.${unsafeInEnvAdvice(k)}`);
      }
    }
  }
  for (const [k, v] of Object.entries(argsParameters(strings(config.args) ?? []))) {
    parameters[k] = 'args';
    values[k] = v;
  }
  for (const tpl of blocks(task, 'template')) {
    const asEnv = tpl.env === true || str(tpl.env) === 'true';
    // cook reads its parameter file literally; env = true values go through the driver's set-env.
    if (!asEnv && !isParamsFileDestination(str(tpl.destination))) continue;
    const keys = templateEnvKeys(str(tpl.data) ?? '').filter((k) => PARAMETER_NAMES.includes(k));
    for (const k of keys) parameters[k] ??= 'template';
    const secrets = keys.filter((k) => SECRET_PARAMETERS.includes(k));
    for (const k of asEnv ? keys.filter((n) => FILE_ONLY_PARAMETERS.includes(n)) : []) {
      problems.push(`${at}: ${fileOnlyAdvice(k)} (an env = true template makes it an environment variable)`);
    }
    if (asEnv && secrets.length > 0) {
      notes.push(
        `${secrets.join(', ')} reach${secrets.length > 1 ? '' : 'es'} the jail through an env = true template, which the pot driver passes through the shell (whitespace and $ \` \\ " ' ; & | and similar break or run); ` +
          `render it to destination = "${PARAMS_FILE_DESTINATION}" with env = false instead (cook reads ${PARAMS_FILE_IN_JAIL} literally)`,
      );
    }
  }
  for (const required of requiredParameters(values)) {
    if (parameters[required] === undefined) {
      const how = SECRET_PARAMETERS.includes(required)
        ? `add it to the template that reads the Nomad Variable into ${PARAMS_FILE_DESTINATION}${FILE_ONLY_PARAMETERS.includes(required) ? '' : ' (or to env {})'}`
        : 'add it to env {}';
      problems.push(`${at}: required parameter ${required} is not set; ${how}`);
    } else if (parameters[required] !== 'template' && values[required] === '') {
      problems.push(`${at}: required parameter ${required} is empty; give it a value`);
    }
  }
  for (const name of FILE_ONLY_PARAMETERS) {
    if (parameters[name] === 'env') problems.push(`${at}: env.${fileOnlyAdvice(name)}`);
  }
  for (const secret of SECRET_PARAMETERS) {
    if (FILE_ONLY_PARAMETERS.includes(secret)) continue;
    if (parameters[secret] === 'env' || parameters[secret] === 'args') {
      notes.push(`${secret} is written in the job file in clear; the shipped job reads it from a Nomad Variable instead`);
    }
  }
  return { problems, notes, parameters };
}
