// `fleetwatch serve` as a real child process (the compiled CLI, as `npx fleetwatch serve` runs it),
// for tests that kill it or send it signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './services.js';

export interface ChildService {
  proc: ChildProcess;
  httpUrl: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const CLI = join(REPO_ROOT, 'bin', 'fleetwatch.js');

export function assertBuilt(): void {
  if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'cli.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it) before these tests');
  }
}

export function runCli(args: string[], env: Record<string, string>): { proc: ChildProcess; output(): string; exited: ChildService['exited'] } {
  assertBuilt();
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return { proc, output: () => out, exited };
}

/** Starts `fleetwatch serve` and resolves once it logged that it is ready. */
export async function startChild(env: Record<string, string>, timeoutMs = 20_000): Promise<ChildService> {
  const child = runCli(['serve'], { ...env, LOG_LEVEL: 'info' });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /"http":"(http:\/\/[^"]+)".*"msg":"fleetwatch ready"/.exec(child.output());
    if (m) return { ...child, httpUrl: m[1]! };
    if (child.proc.exitCode !== null || Date.now() > deadline) {
      child.proc.kill('SIGKILL');
      throw new Error(`fleetwatch serve did not start:\n${child.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
