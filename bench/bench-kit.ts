// What the benches that run their own mosquitto and influxd share: their options, a private pair of
// services (scripts/services.sh on the bench's own ports and folder), the CPU time of those
// processes, and stopping everything they started, also on errors and Ctrl-C.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMs as procCpuMs } from '../simulators/loadtest/proc-cpu.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST = join(ROOT, 'dist');
/** Where the benches keep their data: .data/bench. */
export const WORK = join(ROOT, '.data', 'bench');

/** `--name value` pairs of the command line; anything else prints `usage` and exits 2. */
export function benchArgs(options: readonly string[], usage: string): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 2; i < process.argv.length; i += 2) {
    const name = process.argv[i]!.replace(/^--/, '');
    if (!options.includes(name) || process.argv[i + 1] === undefined) {
      console.error(`usage: ${usage}  (got "${process.argv[i]}")`);
      process.exit(2);
    }
    args.set(name, process.argv[i + 1]!);
  }
  return args;
}

/** A number option within [min, max]; a wrong one exits 2 with the reason. */
export function numberArg(args: Map<string, string>, name: string, fallback: number, min: number, max = Number.POSITIVE_INFINITY): number {
  const n = Number(args.get(name) ?? fallback);
  if (!Number.isFinite(n) || n < min || n > max) {
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `from ${min} to ${max}`;
    console.error(`--${name} must be a number ${range}, got "${args.get(name)}"`);
    process.exit(2);
  }
  return n;
}

/** A bench's own mosquitto and influxd, data under .data/bench/<folder>. */
export class BenchServices {
  readonly mqttUrl: string;
  readonly influxUrl: string;
  readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly mqttPort: number,
    readonly influxPort: number,
    folder: string,
  ) {
    this.mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    this.influxUrl = `http://127.0.0.1:${influxPort}`;
    this.dir = join(WORK, folder);
    this.env = { ...process.env, MQTT_PORT: String(mqttPort), INFLUX_PORT: String(influxPort), FW_DATA_DIR: this.dir };
  }

  /** `scripts/services.sh <args>` for this pair (install, reset, start, stop, …). */
  run(...args: string[]): void {
    execFileSync('bash', [join(ROOT, 'scripts', 'services.sh'), ...args], { env: this.env, stdio: ['ignore', 'ignore', 'inherit'] });
  }

  pid(name: 'mosquitto' | 'influxd'): number | undefined {
    const port = name === 'mosquitto' ? this.mqttPort : this.influxPort;
    try {
      return Number(readFileSync(join(this.dir, `${name}-${port}`, `${name}.pid`), 'utf8').trim());
    } catch {
      return undefined;
    }
  }
}

/** CPU time (user + system) a process has used so far, in ms; 0 when it is gone or unknown. */
export function cpuMs(pid: number | undefined): number {
  return pid === undefined ? 0 : (procCpuMs(pid) ?? 0);
}

/**
 * What a bench started, stopped in reverse order once: at the end, on an error, or on Ctrl-C or
 * SIGTERM (then the process exits 130 or 143).
 */
export class Cleanups {
  private readonly steps: Array<{ what: string; fn: () => Promise<unknown> | unknown }> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly bench: string) {
    for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      process.on(sig, () => {
        console.error(`${bench}: ${sig}, stopping what it started`);
        void this.run().finally(() => process.exit(code));
      });
    }
  }

  add(what: string, fn: () => Promise<unknown> | unknown): void {
    this.steps.push({ what, fn });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const c of this.steps.reverse()) {
        try {
          await c.fn();
        } catch (err) {
          console.error(`${this.bench}: cleanup (${c.what}) failed: ${(err as Error).message}`);
        }
      }
    })();
    return this.running;
  }
}

/** A bench's child process (a publisher), read line by line from its stdout. */
export class ChildLines {
  readonly exited: Promise<void>;
  private readonly lines: string[] = [];
  private readonly waiters: Array<() => void> = [];
  private buf = '';
  private done = false;
  private read = 0;

  constructor(
    readonly proc: ChildProcess,
    private readonly name: string,
  ) {
    proc.stdout!.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
      this.wakeAll();
    });
    this.exited = new Promise<void>((r) =>
      proc.on('exit', () => {
        this.done = true;
        this.wakeAll();
        r();
      }),
    );
  }

  get hasExited(): boolean {
    return this.done;
  }

  /** Line n (from 0), once it has come; rejects if the process ends first. */
  async line(n: number, what: string): Promise<string> {
    while (this.lines.length <= n) {
      if (this.done) throw new Error(`${this.name} exited before ${what}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return this.lines[n]!;
  }

  /** The line after the last one `next` returned. */
  async next(what: string): Promise<string> {
    const line = await this.line(this.read, what);
    this.read++;
    return line;
  }

  private wakeAll(): void {
    this.waiters.splice(0).forEach((w) => w());
  }
}
