/**
 * The progress bar on stderr: on a terminal one line redrawn in place; otherwise (a log, CI) a line
 * every `everyS` seconds.
 */

export interface ProgressState {
  elapsedS: number;
  totalS: number;
  published: number;
  acked: number;
  /** Messages per second over the last interval. */
  rate: number;
  targetRate: number;
}

export function formatProgress(s: ProgressState, width = 24): string {
  const frac = s.totalS > 0 ? Math.min(1, Math.max(0, s.elapsedS / s.totalS)) : 1;
  const full = Math.round(frac * width);
  const bar = '#'.repeat(full) + '.'.repeat(width - full);
  return (
    `[${bar}] ${s.elapsedS.toFixed(0).padStart(String(Math.ceil(s.totalS)).length)}/${Math.ceil(s.totalS)} s ` +
    `sent ${s.published} rate ${s.rate.toFixed(0)}/${s.targetRate} msg/s acked ${s.acked}`
  );
}

export class ProgressBar {
  private lastLineAt = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly everyS = 5,
  ) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  update(s: ProgressState): void {
    const line = `loadtest: ${formatProgress(s)}`;
    if (this.tty) {
      const cols = this.out.columns ?? 120;
      this.out.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 2))}`);
      this.drawn = true;
    } else if (s.elapsedS - this.lastLineAt >= this.everyS - 0.01) {
      this.lastLineAt = s.elapsedS;
      this.out.write(`${line}\n`);
    }
  }

  /** A free-form status (settling, …): redrawn on a terminal, printed once otherwise. */
  status(text: string, always = false): void {
    if (this.tty) {
      const cols = this.out.columns ?? 120;
      this.out.write(`\r${`loadtest: ${text}`.slice(0, cols - 1).padEnd(cols - 1)}`);
      this.drawn = true;
    } else if (always) {
      this.out.write(`loadtest: ${text}\n`);
    }
  }

  /** Ends the redrawn line so that what follows starts on a new one. */
  done(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
