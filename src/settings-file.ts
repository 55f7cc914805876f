// Settings files people write (alert rules, escalation policies): YAML or JSON by extension,
// checked against a zod schema, with an error that names the file and the bad field.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

export function readSettingsFile<S extends z.ZodType>(path: string, schema: S): z.output<S> {
  const text = readFileSync(path, 'utf8');
  const json = extname(path) === '.json';
  let data: unknown;
  try {
    data = json ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`${path}: not valid ${json ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue ? `${issue.path.map(String).join('.') || '(top)'}: ${issue.message}` : 'invalid'}`);
  }
  return parsed.data;
}
