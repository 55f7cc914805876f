/**
 * Did the service do what the scenarios expect, and nothing else? Pure: it compares a plan's
 * expectations with the alerts and tickets the service reports (read through its API by the caller).
 */
import type { ScenarioPlan } from './compile.js';

export interface ObservedAlert {
  rule: string;
  deviceId: string | null;
  state: 'firing' | 'resolved';
  startedMs: number;
  ticketId: number | null;
}

export interface ObservedTicket {
  id: number;
  kind: string;
  dedupKey: string | null;
  openedMs: number;
}

export interface Observation {
  alerts: readonly ObservedAlert[];
  tickets: readonly ObservedTicket[];
  /** Tickets that have an advance replacement. */
  replacementTicketIds: ReadonlySet<number>;
}

export interface CheckResult {
  /** Every expectation is met and nothing unexpected happened. */
  ok: boolean;
  met: string[];
  /** Expectations not (yet) met, one line each. */
  missing: string[];
  /** Alerts no scenario asked for, started after the first scenario step. */
  unexpected: string[];
}

/**
 * `firstStepMs`: wall-clock time of the first scenario step. Alerts that started before it cannot be
 * the scenarios' doing (a fleet's standing alerts, like firmware below the catalog minimum), so they
 * are neither expected nor unexpected.
 */
export function checkScenarios(plan: ScenarioPlan, obs: Observation, firstStepMs: number): CheckResult {
  const met: string[] = [];
  const missing: string[] = [];
  const expected = new Set<string>();
  const recent = obs.alerts.filter((a) => a.startedMs >= firstStepMs);

  for (const { scenario, expectation: e, deviceIds } of plan.expectations) {
    if ('incident' in e) {
      const key = `cloud_incident/${e.incident}`;
      const found = obs.tickets.some((t) => t.kind === 'cloud_incident' && t.dedupKey === key && t.openedMs >= firstStepMs);
      (found ? met : missing).push(`${scenario}: ${e.incident} cloud-partner incident${found ? '' : ' not opened'}`);
      continue;
    }
    for (const deviceId of deviceIds) {
      expected.add(`${e.alert}/${deviceId}`);
      const mine = recent.filter((a) => a.rule === e.alert && a.deviceId === deviceId);
      const what = `${scenario}: ${e.alert} on ${deviceId}`;
      if (mine.length === 0) {
        missing.push(`${what}: never fired`);
        continue;
      }
      if (e.resolves && !mine.some((a) => a.state === 'resolved')) {
        missing.push(`${what}: fired but has not resolved`);
        continue;
      }
      const replaced = mine.some((a) => a.ticketId !== null && obs.replacementTicketIds.has(a.ticketId));
      if (e.replacement === true && !replaced) {
        missing.push(`${what}: fired but its ticket has no advance replacement`);
        continue;
      }
      if (e.replacement === false && replaced) {
        missing.push(`${what}: fired and its ticket requested a replacement it must not have`);
        continue;
      }
      met.push(`${what}: fired${e.resolves ? ', resolved' : ''}${e.replacement === true ? ', replacement requested' : e.replacement === false ? ', no replacement' : ''}`);
    }
  }
  const unexpected = recent
    .filter((a) => !expected.has(`${a.rule}/${a.deviceId ?? ''}`))
    .map((a) => `${a.rule} on ${a.deviceId ?? '(no device)'} (${a.state})`);
  return { ok: missing.length === 0 && unexpected.length === 0, met, missing, unexpected };
}
