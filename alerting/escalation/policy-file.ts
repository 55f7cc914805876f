// Reading an escalation policies file (ESCALATION_POLICIES): YAML or JSON, checked at start.
import { readSettingsFile } from '../../src/settings-file.js';
import { PolicyFileSchema, type PolicyFile } from './policy.js';

export function readPolicyFile(path: string): PolicyFile {
  return readSettingsFile(path, PolicyFileSchema);
}
