// stage flavours: install our flavour files flat into pot's flavour folder,
// where pot (and the absolute `copy-in -s` paths in our command files) look for
// them. Only the chain's own files are written; other flavours are untouched.
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ListrTask } from 'listr2';
import { shellQuote } from '../runner/shell-quote.js';
import type { BuildContext } from './context.js';
import { beforeFlavours } from './pot-steps.js';

export interface StageResult { copied: string[]; unchanged: string[]; removed: string[] }

/** The source files of flavour `name`: `name`, `name.sh` and everything under `name.d/`, as paths relative to `sourceDir`. */
export function flavourFiles(sourceDir: string, name: string): string[] {
  const out: string[] = [];
  for (const f of [name, `${name}.sh`]) {
    const p = join(sourceDir, f);
    if (existsSync(p) && statSync(p).isFile()) out.push(f);
  }
  const payload = join(sourceDir, `${name}.d`);
  if (existsSync(payload) && statSync(payload).isDirectory()) {
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.isFile()) out.push(relative(sourceDir, p));
      }
    };
    walk(payload);
  }
  return out;
}

function sameFile(src: string, dst: string): boolean {
  if (!existsSync(dst)) return false;
  const a = statSync(src);
  const b = lstatSync(dst);
  if (!b.isFile() || a.size !== b.size || (a.mode & 0o7777) !== (b.mode & 0o7777)) return false;
  return readFileSync(src).equals(readFileSync(dst));
}

/** Files under installDir/<name>.d that are no longer in the source (stale payload of OUR flavour only). */
function stalePayload(sourceDir: string, installDir: string, name: string): string[] {
  const dir = join(installDir, `${name}.d`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const wanted = new Set(flavourFiles(sourceDir, name));
  return flavourFiles(installDir, name).filter((f) => f.startsWith(`${name}.d`) && !wanted.has(f));
}

/**
 * Copy the flavours' files into installDir, preserving permissions and
 * skipping unchanged files. `note` receives the equivalent shell command of
 * each change; with `dryRun` nothing is written.
 */
export function stageFlavours(sourceDir: string, installDir: string, names: readonly string[], note: (line: string) => void, dryRun = false): StageResult {
  const result: StageResult = { copied: [], unchanged: [], removed: [] };
  const madeDirs = new Set<string>();
  if (dryRun) note(`mkdir -p ${shellQuote(installDir)}`);
  else mkdirSync(installDir, { recursive: true });
  for (const name of names) {
    for (const rel of flavourFiles(sourceDir, name)) {
      const src = join(sourceDir, rel);
      const dst = join(installDir, rel);
      if (!dryRun && sameFile(src, dst)) {
        result.unchanged.push(rel);
        continue;
      }
      const parent = join(dst, '..');
      if (parent !== installDir && !madeDirs.has(parent) && (dryRun || !existsSync(parent))) {
        for (let d = parent; d.startsWith(`${installDir}/`); d = join(d, '..')) madeDirs.add(d);
        note(`mkdir -p ${shellQuote(parent)}`);
      }
      note(`install -p -m ${(statSync(src).mode & 0o7777).toString(8).padStart(4, '0')} ${shellQuote(src)} ${shellQuote(dst)}`);
      if (!dryRun) {
        mkdirSync(parent, { recursive: true });
        copyFileSync(src, dst);
        chmodSync(dst, statSync(src).mode & 0o7777);
      }
      result.copied.push(rel);
    }
    if (!dryRun) {
      for (const rel of stalePayload(sourceDir, installDir, name)) {
        note(`rm -f ${shellQuote(join(installDir, rel))}`);
        rmSync(join(installDir, rel), { force: true });
        result.removed.push(rel);
      }
    }
  }
  return result;
}

export function stageFlavoursTask(): ListrTask<BuildContext> {
  return {
    title: 'stage flavours',
    task: (ctx, task) => {
      const { source, installDir, chain } = ctx.definition.flavours;
      task.title = `stage flavours into ${installDir}`;
      // Flavours before the chain that the project ships itself (the end-of-life update flavour) go too.
      const own = beforeFlavours(ctx).filter((f) => flavourFiles(source, f).length > 0);
      const r = stageFlavours(source, installDir, [...own, ...chain], (l) => ctx.note(l), ctx.options.dryRun);
      task.output = `${r.copied.length} copied, ${r.unchanged.length} unchanged${r.removed.length ? `, ${r.removed.length} stale removed` : ''}`;
    },
  };
}
