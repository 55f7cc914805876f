// A WHERE clause from optional equality filters: the ones given are ANDed, the undefined ones left out.
import type { SqlValue } from './database.js';

export function whereEquals(filters: Array<[column: string, value: SqlValue | undefined]>): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  for (const [column, value] of filters) {
    if (value === undefined) continue;
    parts.push(`${column} = ?`);
    params.push(value);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}
