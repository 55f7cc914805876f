// Temp dirs for storage tests, removed after each test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export function tempDirs(): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), 'fleetwatch-storage-'));
    dirs.push(d);
    return d;
  };
}

export const DEMO_SEED = new URL('../../seed/demo.json', import.meta.url).pathname;
