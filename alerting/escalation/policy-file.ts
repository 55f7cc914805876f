// Reading an escalation policies file (ESCALATION_POLICIES): YAML or JSON, checked at start.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PolicyFileSchema, type PolicyFile } from './policy.js';

export function readPolicyFile(path: string): PolicyFile {
  const text = readFileSync(path, 'utf8');
  let data: unknown;
  try {
    data = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`${path}: not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const parsed = PolicyFileSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue ? `${issue.path.map(String).join('.') || '(top)'}: ${issue.message}` : 'invalid'}`);
  }
  return parsed.data;
}
