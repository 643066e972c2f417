// Parses a Nomad job file with HashiCorp's own HCL library (Go, compiled to wasm in
// @cdktf/hcl2json) into its JSON form: blocks become { label: [ { ...body } ] }.
import { parse } from '@cdktf/hcl2json';
import { InputError } from '../errors.js';

export type HclBody = Record<string, unknown>;

export async function parseHcl(text: string, fileName: string): Promise<HclBody> {
  try {
    return (await parse(fileName, text)) as HclBody;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/^parse config:\s*/, '');
    const first = message.replace(/^\[/, '').replace(/\]$/, '').split(/\n/)[0];
    throw new InputError(`${fileName} is not valid HCL: ${first}`);
  }
}

/** Each labelled block of a kind: `job "x" {}` -> [["x", body]]. */
export function labelledBlocks(body: HclBody | undefined, kind: string): Array<[string, HclBody]> {
  const value = body?.[kind];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: Array<[string, HclBody]> = [];
  for (const [label, bodies] of Object.entries(value as Record<string, unknown>)) {
    for (const b of Array.isArray(bodies) ? bodies : [bodies]) out.push([label, b as HclBody]);
  }
  return out;
}

/** Each unlabelled block of a kind: `config {}` -> [body]. */
export function blocks(body: HclBody | undefined, kind: string): HclBody[] {
  const value = body?.[kind];
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is HclBody => typeof v === 'object' && v !== null && !Array.isArray(v));
}
