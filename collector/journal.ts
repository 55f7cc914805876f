// The durable journal between the broker and InfluxDB (the collector's write-ahead log).
//
// Contract (test/collector/journal.test.ts holds every implementation to it):
//   append(line)  the line is on disk (in the kernel's page cache) when append returns, so the
//                 message may be acknowledged to the broker: a killed collector loses nothing.
//                 fdatasync runs every fsyncMs (0: on every append) against power loss.
//   stage(line)   the same, in groups: staged lines reach the disk together at flush(), in one
//                 write; whatever was acknowledged on their account must wait for that flush.
//   read(max)     the next lines not yet read, in append order, as one batch (one batch in flight).
//   commit(b)     the batch is in InfluxDB: its bytes may go. Whole segments are deleted.
//   rewind()      the batch in flight was not written: read it again.
//   reopen        whatever was appended and not committed is read again (at-least-once; InfluxDB
//                 overwrites a point with the same series and timestamp, so replay is harmless).
//
// Layout: segment files 0000000001.log, 0000000002.log, … of newline-terminated lines, and a
// `checkpoint` file "segment offset" naming the first byte not yet committed.
import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface JournalOptions {
  /** Appends wait (the collector stops acknowledging) while this many bytes are uncommitted. */
  maxBytes: number;
  segmentBytes?: number;
  fsyncMs?: number;
  /** Upper bound on the bytes read into one batch. */
  maxBatchBytes?: number;
}

export interface Position {
  segment: number;
  offset: number;
}

export interface Batch {
  /** The lines, each ending in "\n", ready to be sent as one InfluxDB write body. */
  body: string;
  lines: number;
  bytes: number;
  end: Position;
}

interface Segment {
  index: number;
  size: number;
}

const SEGMENT_NAME = /^(\d{10})\.log$/;
const segmentName = (index: number) => `${String(index).padStart(10, '0')}.log`;

export class Journal {
  private readonly segments: Segment[] = [];
  private fd: number;
  private committed: Position;
  private cursor: Position;
  private pending = 0;
  private dirty = false;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private waiter: (() => void) | undefined;
  private readonly readBuffer: Buffer;
  private closed = false;
  private torn = 0;
  private staged = '';

  private constructor(
    private readonly dir: string,
    private readonly options: Required<JournalOptions>,
  ) {
    mkdirSync(dir, { recursive: true });
    this.lock();
    for (const name of readdirSync(dir)) {
      const m = SEGMENT_NAME.exec(name);
      if (m) this.segments.push({ index: Number(m[1]), size: fstatSizeOf(join(dir, name)) });
    }
    this.segments.sort((a, b) => a.index - b.index);
    this.committed = this.readCheckpoint();
    // Segments wholly before the checkpoint were committed but not yet deleted when we stopped.
    while (this.segments.length > 0 && this.segments[0]!.index < this.committed.segment) {
      unlinkSync(join(dir, segmentName(this.segments.shift()!.index)));
    }
    const first = this.segments[0];
    if (!first || first.index > this.committed.segment) {
      this.committed = { segment: first?.index ?? this.committed.segment, offset: 0 };
    }
    // Appends always go to a fresh segment, never after a possibly torn last line.
    const next = (this.segments.at(-1)?.index ?? this.committed.segment - 1) + 1;
    this.segments.push({ index: next, size: 0 });
    this.fd = openSync(join(dir, segmentName(next)), 'a+');
    this.cursor = { ...this.committed };
    for (const s of this.segments) {
      if (s.index === this.committed.segment) this.pending += s.size - this.committed.offset;
      else if (s.index > this.committed.segment) this.pending += s.size;
    }
    this.readBuffer = Buffer.allocUnsafe(this.options.maxBatchBytes);
    if (this.options.fsyncMs > 0) {
      this.fsyncTimer = setInterval(() => this.sync(), this.options.fsyncMs);
      this.fsyncTimer.unref();
    }
  }

  static open(dir: string, options: JournalOptions): Journal {
    return new Journal(dir, {
      maxBytes: options.maxBytes,
      segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
      fsyncMs: options.fsyncMs ?? 1000,
      maxBatchBytes: options.maxBatchBytes ?? 4 * 1024 * 1024,
    });
  }

  /** Bytes appended and not yet committed (in flight included). */
  get pendingBytes(): number {
    return this.pending;
  }

  /** Bytes of torn last lines skipped since open (see skipTorn). */
  get tornBytes(): number {
    return this.torn;
  }

  get isFull(): boolean {
    return this.pending >= this.options.maxBytes;
  }

  append(line: string): void {
    this.stage(line);
    this.flush();
  }

  stage(line: string): void {
    if (this.closed) throw new Error('journal is closed');
    this.staged += line;
  }

  /** Writes the staged lines (one system call). After it returns they are as durable as append's. */
  flush(): void {
    if (this.staged.length === 0) return;
    const data = this.staged;
    this.staged = '';
    const written = writeSync(this.fd, data);
    const current = this.segments.at(-1)!;
    current.size += written;
    this.pending += written;
    if (this.options.fsyncMs === 0) fdatasyncSync(this.fd);
    else this.dirty = true;
    if (current.size >= this.options.segmentBytes) this.roll();
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter();
    }
  }

  /** Resolves at the next append (or at once if unread lines exist), or after timeoutMs. */
  waitForData(timeoutMs: number): Promise<void> {
    if (this.hasUnread()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve();
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  hasUnread(): boolean {
    const last = this.segments.at(-1)!;
    return this.cursor.segment < last.index || this.cursor.offset < last.size;
  }

  /** Reads up to maxLines whole lines after the cursor; undefined when there are none. */
  read(maxLines: number): Batch | undefined {
    for (;;) {
      const seg = this.segments.find((s) => s.index === this.cursor.segment);
      const last = this.segments.at(-1)!;
      if (!seg) {
        // The cursor's segment was never written (a fresh journal): move on.
        if (this.cursor.segment >= last.index) return undefined;
        this.cursor = { segment: this.cursor.segment + 1, offset: 0 };
        continue;
      }
      const available = seg.size - this.cursor.offset;
      if (available <= 0) {
        if (seg === last) return undefined;
        this.skipTorn(seg);
        this.cursor = { segment: this.segments[this.segments.indexOf(seg) + 1]!.index, offset: 0 };
        continue;
      }
      const want = Math.min(available, this.readBuffer.length);
      const fd = seg === last ? this.fd : openSync(join(this.dir, segmentName(seg.index)), 'r');
      let got: number;
      try {
        got = readSync(fd, this.readBuffer, 0, want, this.cursor.offset);
      } finally {
        if (fd !== this.fd) closeSync(fd);
      }
      // Cut at the maxLines-th newline, or at the last whole line in the buffer.
      let end = 0;
      let lines = 0;
      let nl = this.readBuffer.indexOf(10, 0);
      while (nl >= 0 && nl < got) {
        end = nl + 1;
        if (++lines >= maxLines) break;
        nl = this.readBuffer.indexOf(10, end);
      }
      if (lines === 0) {
        if (seg === last) return undefined;
        this.skipTorn(seg);
        this.cursor = { segment: this.segments[this.segments.indexOf(seg) + 1]!.index, offset: 0 };
        continue;
      }
      const body = this.readBuffer.toString('utf8', 0, end);
      this.cursor = { segment: seg.index, offset: this.cursor.offset + end };
      return { body, lines, bytes: end, end: { ...this.cursor } };
    }
  }

  /** The batch did not make it: the next read returns it again. */
  rewind(): void {
    this.cursor = { ...this.committed };
  }

  commit(batch: Batch): void {
    const before = this.committed;
    this.committed = { ...batch.end };
    this.pending -= this.bytesBetween(before, this.committed);
    const tmp = join(this.dir, 'checkpoint.tmp');
    writeFileSync(tmp, `${this.committed.segment} ${this.committed.offset}\n`);
    renameSync(tmp, join(this.dir, 'checkpoint'));
    while (this.segments.length > 1 && this.segments[0]!.index < this.committed.segment) {
      unlinkSync(join(this.dir, segmentName(this.segments.shift()!.index)));
    }
  }

  sync(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    this.sync();
    this.closed = true;
    closeSync(this.fd);
    rmSync(join(this.dir, 'lock'), { force: true });
  }

  private bytesBetween(from: Position, to: Position): number {
    if (from.segment === to.segment) return to.offset - from.offset;
    let bytes = 0;
    for (const s of this.segments) {
      if (s.index === from.segment) bytes += s.size - from.offset;
      else if (s.index > from.segment && s.index < to.segment) bytes += s.size;
      else if (s.index === to.segment) bytes += to.offset;
    }
    return bytes;
  }

  private skipTorn(seg: Segment): void {
    const torn = seg.size - this.cursor.offset;
    // A closed segment whose tail has no "\n": the process died mid-write, before that message
    // was acknowledged, so the broker sends it again. The tail is dropped from the accounting.
    this.torn += torn;
    this.pending -= torn;
    seg.size = this.cursor.offset;
  }

  private roll(): void {
    this.sync();
    closeSync(this.fd);
    const next = this.segments.at(-1)!.index + 1;
    this.segments.push({ index: next, size: 0 });
    this.fd = openSync(join(this.dir, segmentName(next)), 'a+');
  }

  /** One process per journal: two collectors sharing a folder would interleave and lose lines. */
  private lock(): void {
    const path = join(this.dir, 'lock');
    try {
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isSafeInteger(pid) && pid !== process.pid && processAlive(pid)) {
        throw new Error(`journal ${this.dir} is in use by process ${pid}; give each collector its own JOURNAL_DIR`);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    writeFileSync(path, `${process.pid}\n`);
  }

  private readCheckpoint(): Position {
    try {
      const [segment, offset] = readFileSync(join(this.dir, 'checkpoint'), 'utf8').trim().split(' ').map(Number);
      if (Number.isSafeInteger(segment) && Number.isSafeInteger(offset)) return { segment: segment!, offset: offset! };
    } catch {
      // No checkpoint yet: nothing was ever committed.
    }
    return { segment: 1, offset: 0 };
  }
}

function fstatSizeOf(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
