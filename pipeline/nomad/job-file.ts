// Glue between the image definition, the command-line options and render/check.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { checkTag as checkNameTag } from '../input/names.js';
import { parseUrl } from '../input/urls.js';
import type { ImageDefinition } from '../definition/types.js';
import { checkJob, type JobCheckResult } from './check.js';
import { checkControlKey } from './host-paths.js';
import { parseHcl } from './hcl.js';
import { DEFAULT_CONTROL_KEY } from './job-spec.js';
import { FILE_ONLY_PARAMETERS, requiredParameters, SECRET_PARAMETERS } from './parameters.js';
import { exampleParams, renderJob } from './render.js';

/** The repository URL the shipped example job names when the definition has no publish.public_url. */
export const EXAMPLE_REPO_URL = 'https://images.example.org/matrix-synapse-nomad/';

export interface RenderRequest {
  repoUrl?: string;
  tag?: string;
  datacenters?: string[];
  /** Parameter values from --params; undefined renders the example job. */
  params?: Record<string, string>;
  plainEnv?: boolean;
  controlKey?: string;
  dynamicPorts?: boolean;
  serviceProvider?: string;
}

/** A URL pot import can fetch from, without credentials (the job file is read by many). */
function checkRepoUrl(url: string): string {
  parseUrl(url, '--repo-url', { schemes: ['http', 'https', 'file', 'ftp'] });
  if (/\s/.test(url)) throw new InputError(`--repo-url: '${url}' contains white space; pot import cannot fetch from it`);
  return url;
}

/** The image tag: the one validator every command shares. */
export function checkTag(tag: string): string {
  return checkNameTag(tag);
}

function checkProvider(provider: string | undefined): 'consul' | 'nomad' | undefined {
  if (provider === undefined || provider === 'consul' || provider === 'nomad') return provider;
  throw new InputError(`--service-provider: '${provider}' is not a service provider; use consul or nomad`);
}

/** The repository URL: --repo-url, else the definition's publish.public_url. */
export function repoUrlFor(definition: ImageDefinition, repoUrl?: string): string | undefined {
  const url = repoUrl ?? definition.publish.publicUrl;
  return url === undefined ? undefined : checkRepoUrl(url);
}

export function renderJobFor(definition: ImageDefinition, req: RenderRequest): string {
  const repoUrl = repoUrlFor(definition, req.repoUrl);
  if (repoUrl === undefined) {
    throw new InputError('no repository URL: pass --repo-url URL or set publish.public_url in the image definition');
  }
  const datacenters = req.datacenters?.length ? req.datacenters : ['dc1'];
  for (const dc of datacenters) {
    if (!/^[A-Za-z0-9*][A-Za-z0-9_.*-]*$/.test(dc)) throw new InputError(`--datacenter: '${dc}' is not a datacenter name`);
  }
  let params = req.params;
  if (params === undefined) {
    params = exampleParams();
  } else {
    // Secrets come from the Nomad Variable (with --plain-env from the file, except the file-only ones).
    const fromVariable = (n: string) => SECRET_PARAMETERS.includes(n) && (!req.plainEnv || FILE_ONLY_PARAMETERS.includes(n));
    const missing = requiredParameters(params).filter((n) => params?.[n] === undefined && !fromVariable(n));
    if (missing.length > 0) {
      throw new InputError(`--params: required parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing; add ${missing.map((n) => `${n}=...`).join(' ')}`);
    }
    const secretsGiven = SECRET_PARAMETERS.filter((n) => params?.[n] !== undefined && fromVariable(n));
    if (secretsGiven.length > 0) {
      const fileOnly = secretsGiven.filter((n) => FILE_ONLY_PARAMETERS.includes(n));
      throw new InputError(
        `--params: ${secretsGiven.join(', ')} ${secretsGiven.length > 1 ? 'are secrets' : 'is a secret'} and stays out of the job file; ` +
          `remove ${secretsGiven.length > 1 ? 'them' : 'it'} and run 'nomad var put nomad/jobs/matrix-synapse ${secretsGiven.map((n) => `${n}=...`).join(' ')}'` +
          (fileOnly.length > 0 ? ` (cook takes ${fileOnly.join(', ')} only from the Nomad Variable, even with --plain-env)` : ' (or pass --plain-env)'),
      );
    }
  }
  return renderJob({
    repoUrl,
    potName: definition.potName,
    tag: checkTag(req.tag ?? definition.version),
    datacenters,
    params,
    plainEnv: req.plainEnv,
    controlKey: checkControlKey(req.controlKey ?? DEFAULT_CONTROL_KEY),
    dynamicPorts: req.dynamicPorts,
    serviceProvider: checkProvider(req.serviceProvider),
  });
}

/** Write the whole file or nothing: a temp file beside it, renamed into place. */
export function writeJobFile(path: string, text: string): void {
  if (!existsSync(dirname(path))) throw new InputError(`--out: folder '${dirname(path)}' does not exist; create it first`);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export async function checkJobFile(path: string, definition: ImageDefinition, opts: { repoUrl?: string; tag?: string }): Promise<JobCheckResult> {
  if (!existsSync(path)) throw new InputError(`--check: job file '${path}' does not exist`);
  const root = await parseHcl(readFileSync(path, 'utf8'), path);
  return checkJob(root, {
    potName: definition.potName,
    tag: checkTag(opts.tag ?? definition.version),
    repoUrl: repoUrlFor(definition, opts.repoUrl),
  });
}
