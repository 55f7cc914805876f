// Replies to commands (diagnostics steps and summaries, CONTRACT section 1).
import { decodeJsonObject, isObject } from './decode-json.js';
import type { CommandReply } from './messages.js';
import { Rejection } from './rejection.js';

export function decodeReply(payload: Buffer): CommandReply | Rejection {
  const obj = decodeJsonObject(payload);
  if (obj instanceof Rejection) return obj;
  if (obj.commandId === undefined) return new Rejection('missing_field', 'required field "commandId" is missing');
  if (typeof obj.commandId !== 'string' || obj.commandId.length === 0 || obj.commandId.length > 128) {
    return new Rejection('bad_field', '"commandId" must be a string of 1-128 characters');
  }
  if (obj.seq === undefined) return new Rejection('missing_field', 'required field "seq" is missing');
  if (typeof obj.seq !== 'number' || !Number.isSafeInteger(obj.seq) || obj.seq < 0) {
    return new Rejection('bad_field', '"seq" must be a non-negative integer');
  }
  if (obj.status !== 'running' && obj.status !== 'ok' && obj.status !== 'error') {
    return new Rejection(obj.status === undefined ? 'missing_field' : 'bad_field', '"status" must be running, ok or error');
  }
  if (obj.data !== undefined && !isObject(obj.data)) return new Rejection('bad_field', '"data" must be an object');
  return {
    commandId: obj.commandId,
    seq: obj.seq,
    final: obj.final === true,
    status: obj.status,
    data: (obj.data as Record<string, unknown>) ?? {},
  };
}
