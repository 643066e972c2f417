import type { Command } from '../command.js';

// The registry of sub-commands. Each lives in its own file; add one line here.
const loaders: Record<string, () => Promise<{ default: Command }>> = {
  build: () => import('./build.js'),
  plan: () => import('./plan.js'),
  hash: () => import('./hash.js'),
  keygen: () => import('./keygen.js'),
  sign: () => import('./sign.js'),
  verify: () => import('./verify.js'),
  publish: () => import('./publish.js'),
  serve: () => import('./serve.js'),
  'nomad-job': () => import('./nomad-job.js'),
  'check-version': () => import('./check-version.js'),
};

export const commandNames = Object.keys(loaders);

export async function loadCommand(name: string): Promise<Command | undefined> {
  const load = loaders[name];
  return load ? (await load()).default : undefined;
}
