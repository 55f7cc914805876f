// `npm run dashboards` (tsc, then `node dist/dashboards/generate.js`): writes every dashboard's JSON
// into dashboards/generated/ of the repository, which is committed so users can take the files
// without building. `--out <dir>` writes elsewhere.
import { existsSync, mkdirSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS, renderDashboard } from './all-dashboards.js';

/** The repository root: the nearest folder above this file holding package.json (works from dist/ too). */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export const GENERATED_DIR = join(repoRoot(), 'dashboards', 'generated');

/** Writes the dashboards to `outDir`, removing JSON files there that no dashboard produces any more. */
export function generate(outDir = GENERATED_DIR): string[] {
  mkdirSync(outDir, { recursive: true });
  const written = DASHBOARDS.map((d) => {
    const path = join(outDir, d.file);
    writeFileSync(path, renderDashboard(d));
    return path;
  });
  const expected = new Set(DASHBOARDS.map((d) => d.file));
  for (const name of readdirSync(outDir)) if (name.endsWith('.json') && !expected.has(name)) unlinkSync(join(outDir, name));
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]!) : GENERATED_DIR;
  for (const path of generate(out)) console.log(`wrote ${path}`);
}
