// The README and docs describe what exists now. This test reads every git-tracked markdown file
// and fails on wording that promises or apologises for missing work ("not yet", "later", "TODO",
// "planned", ...), listing each hit as `file:line: text`. A hit that is legitimate (for example
// "later" in the sense of time: "a later message", "retried later") goes in ALLOWED with a reason;
// an ALLOWED entry that no longer matches any hit fails too, so the list cannot rot.
// Needs no services.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Words that say something is missing or promised; all whole-word, case-insensitive. */
const WORDING: RegExp[] = [/\bnot yet\b/i, /\byet to\b/i, /\blater\b/i, /\bTODO\b/i, /\bcoming soon\b/i, /\bplanned\b/i];

interface Allowed {
  /** Repository-relative path, as git prints it. */
  file: string;
  /** A distinctive substring of the allowed line. */
  contains: string;
  /** One line: why the word is legitimate there. */
  reason: string;
}

const ALLOWED: Allowed[] = [
  {
    file: 'docs/alerting.md',
    contains: 'a later `software_update` `done`',
    reason: '"later" in the sense of time: a software_update event that arrives after the failed one clears the alert',
  },
];

const SKIPPED_DIRS = ['node_modules/', 'test-results/', '.data/'];

function markdownFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--', '*.md'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return out
    .split('\0')
    .filter((f) => f !== '')
    .filter((f) => !SKIPPED_DIRS.some((d) => f.startsWith(d) || f.includes(`/${d}`)))
    .filter((f) => existsSync(join(REPO_ROOT, f)))
    .sort();
}

interface Hit {
  file: string;
  line: number;
  text: string;
}

function findHits(files: string[]): Hit[] {
  const hits: Hit[] = [];
  for (const file of files) {
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split(/\r?\n/);
    lines.forEach((text, i) => {
      if (WORDING.some((re) => re.test(text))) hits.push({ file, line: i + 1, text: text.trim() });
    });
  }
  return hits;
}

const allows = (a: Allowed, h: Hit): boolean => a.file === h.file && h.text.includes(a.contains);
const show = (h: Hit): string => `${h.file}:${h.line}: ${h.text}`;

describe('docs wording', () => {
  const files = markdownFiles();
  const hits = findHits(files);

  it('finds the project markdown', () => {
    expect(files).toContain('README.md');
    expect(files.filter((f) => f.startsWith('docs/')).length).toBeGreaterThan(0);
  });

  it('describes what exists now: no "not yet", "later", "TODO", "planned", ... outside the allow-list', () => {
    const unexplained = hits.filter((h) => !ALLOWED.some((a) => allows(a, h))).map(show);
    expect(unexplained, `wording that promises or apologises for missing work:\n${unexplained.join('\n')}\n`).toEqual([]);
  });

  it('has no stale allow-list entries', () => {
    const stale = ALLOWED.filter((a) => !hits.some((h) => allows(a, h))).map((a) => `${a.file}: "${a.contains}" (${a.reason})`);
    expect(stale, `allow-list entries that match no hit any more:\n${stale.join('\n')}\n`).toEqual([]);
  });

  it('gives every allow-list entry a one-line reason', () => {
    for (const a of ALLOWED) {
      expect(a.reason.trim(), `${a.file}: "${a.contains}"`).not.toBe('');
      expect(a.reason, `${a.file}: "${a.contains}"`).not.toMatch(/\n/);
    }
  });
});
