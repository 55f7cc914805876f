// The journal contract (see the header of collector/journal.ts), on real files in a temp folder.
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, type JournalOptions } from '../../collector/journal.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fw-journal-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const line = (i: number) => `m,device=d${i % 7} seq=${i}i ${1_700_000_000_000 + i}\n`;
const open = (dir: string, o: Partial<JournalOptions> = {}) => Journal.open(dir, { maxBytes: 1 << 30, fsyncMs: 60_000, ...o });

function drain(j: Journal, max = 1000): string[] {
  const out: string[] = [];
  for (let b = j.read(max); b; b = j.read(max)) {
    out.push(...b.body.split('\n').filter(Boolean));
    j.commit(b);
  }
  return out;
}

describe('Journal', () => {
  it('reads back what was appended, in order, in batches of at most maxLines', () => {
    const j = open(tempDir());
    for (let i = 0; i < 2500; i++) j.append(line(i));
    const b = j.read(1000)!;
    expect(b.lines).toBe(1000);
    expect(b.body.startsWith(line(0))).toBe(true);
    j.commit(b);
    expect(drain(j)).toHaveLength(1500);
    expect(j.pendingBytes).toBe(0);
    expect(j.read(10)).toBeUndefined();
    j.close();
  });

  it('gives a batch again after rewind (the write failed)', () => {
    const j = open(tempDir());
    for (let i = 0; i < 10; i++) j.append(line(i));
    const first = j.read(5)!;
    j.rewind();
    expect(j.read(5)!.body).toBe(first.body);
    j.close();
  });

  it('replays what was not committed after a reopen (the collector was killed)', () => {
    const dir = tempDir();
    const j = open(dir);
    for (let i = 0; i < 100; i++) j.append(line(i));
    j.commit(j.read(40)!);
    j.read(30); // in flight when the process died: not committed
    // no close(): as after SIGKILL
    const again = open(dir);
    const lines = drain(again);
    expect(lines).toHaveLength(60);
    expect(lines[0]).toBe(line(40).trimEnd());
    again.close();
    j.close();
  });

  it('rolls segments and deletes the ones fully written', () => {
    const dir = tempDir();
    const j = open(dir, { segmentBytes: 1024 });
    for (let i = 0; i < 500; i++) j.append(line(i));
    expect(readdirSync(dir).filter((f) => f.endsWith('.log')).length).toBeGreaterThan(10);
    expect(drain(j, 37)).toHaveLength(500);
    expect(readdirSync(dir).filter((f) => f.endsWith('.log')).length).toBe(1);
    j.close();
    const again = open(dir);
    expect(again.read(10)).toBeUndefined();
    expect(again.pendingBytes).toBe(0);
    again.close();
  });

  it('keeps lines across many reopen cycles without losing or repeating committed ones', () => {
    const dir = tempDir();
    const seen: string[] = [];
    let next = 0;
    for (let round = 0; round < 5; round++) {
      const j = open(dir, { segmentBytes: 2048 });
      for (let i = 0; i < 77; i++) j.append(line(next++));
      const b = j.read(50)!;
      seen.push(...b.body.split('\n').filter(Boolean));
      j.commit(b);
      j.close();
    }
    const j = open(dir);
    seen.push(...drain(j));
    expect(seen).toEqual(Array.from({ length: next }, (_, i) => line(i).trimEnd()));
    j.close();
  });

  it('skips a torn last line left by a crash mid-write, keeping the whole lines before it', () => {
    const dir = tempDir();
    const j = open(dir);
    for (let i = 0; i < 3; i++) j.append(line(i));
    j.close();
    appendFileSync(join(dir, '0000000001.log'), 'm,device=d seq=9'); // no newline: torn
    const again = open(dir);
    expect(drain(again)).toEqual([line(0), line(1), line(2)].map((l) => l.trimEnd()));
    expect(again.tornBytes).toBe('m,device=d seq=9'.length);
    expect(again.pendingBytes).toBe(0);
    again.close();
  });

  it('reports full at maxBytes of uncommitted lines, and room again after a commit', () => {
    const j = open(tempDir(), { maxBytes: 1024 * 1024 });
    let n = 0;
    while (!j.isFull) j.append(line(n++));
    expect(j.pendingBytes).toBeGreaterThanOrEqual(1024 * 1024);
    j.commit(j.read(1000)!);
    expect(j.isFull).toBe(false);
    j.close();
  });

  it('wakes a waiting reader on append', async () => {
    const j = open(tempDir());
    const t0 = Date.now();
    const waited = j.waitForData(5000);
    setTimeout(() => j.append(line(1)), 20);
    await waited;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(j.read(10)!.lines).toBe(1);
    j.close();
  });

  it('refuses a folder another live process holds, and takes over one whose owner died', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'lock'), '1\n'); // pid 1 is always alive
    expect(() => open(dir)).toThrow(/in use by process 1; give each collector its own JOURNAL_DIR/);
    writeFileSync(join(dir, 'lock'), '2147483646\n'); // no such process
    const j = open(dir);
    j.append(line(1));
    j.close();
    expect(readdirSync(dir)).not.toContain('lock');
  });
});
