// The summary a build or publish ends with: what a maintainer pastes into a
// release note (np and Packer end the same way). The same fields go into --json.
import { formatBytes } from '../artifacts/progress.js';

export interface ReleaseSummary {
  image: string;
  tag: string;
  /** Bytes of the .xz. */
  size?: number;
  skein1024?: string;
  /** signify key number (hex) of the signature; null: unsigned. */
  keyNumber?: string | null;
  /** Where it was published (folder or URL) and where clients import it from. */
  repository?: string;
  importFrom?: string;
  /** Milliseconds per step, in order. */
  steps: Record<string, number>;
  totalMs: number;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Aligned lines under a heading; the digest whole (it is what a client compares). */
export function formatSummary(heading: string, s: ReleaseSummary): string {
  const rows: Array<[string, string]> = [['image', s.image], ['tag', s.tag]];
  if (s.size !== undefined) rows.push(['size', `${formatBytes(s.size)} (${s.size} bytes, .xz)`]);
  if (s.skein1024) rows.push(['Skein-1024', s.skein1024]);
  if (s.keyNumber !== undefined) rows.push(['signed', s.keyNumber === null ? 'NO: unsigned image' : `key number ${s.keyNumber}`]);
  if (s.repository) rows.push(['repository', s.repository]);
  if (s.importFrom && s.importFrom !== s.repository) rows.push(['import from', s.importFrom]);
  for (const [step, ms] of Object.entries(s.steps)) rows.push([`time: ${step}`, formatDuration(ms)]);
  rows.push(['time: total', formatDuration(s.totalMs)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return [heading, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n');
}
