/**
 * CPU time per message of each process of the path: the load tester itself, the broker, the
 * service and InfluxDB. A process is found by the port of its URL (the local process listening on
 * it) or given by pid; one on another host is "not local" (the service's CPU then still comes from
 * its /metrics). Two roles in one process (the embedded broker in the service, or a service started
 * inside the load tester) make one row.
 */
import { cpuMs, isLocalHost, listeningPid, processName, selfCpuMs } from './proc-cpu.js';

export type Role = 'load tester' | 'service' | 'broker' | 'InfluxDB';

export interface CpuTarget {
  roles: Role[];
  pid?: number;
  /** Process name (comm), when found. */
  name?: string;
  /** Why there is no figure: 'not local', 'not found', … */
  unavailable?: string;
}

export interface CpuRow {
  /** e.g. "service", "service + broker". */
  roles: string;
  /** e.g. "mosquitto (pid 1234)". */
  process: string;
  cpuMs?: number;
  usPerMsg?: number;
  source?: '/proc' | '/metrics' | 'process.cpuUsage';
  note?: string;
}

const PID_KEYS: Record<string, Role> = {
  service: 'service',
  broker: 'broker',
  mosquitto: 'broker',
  influxd: 'InfluxDB',
  influxdb: 'InfluxDB',
  influx: 'InfluxDB',
};

/** `service=123,mosquitto=456,influxd=789` to pids by role. Throws on a bad entry. */
export function parsePids(spec: string): Partial<Record<Role, number>> {
  const out: Partial<Record<Role, number>> = {};
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(\d+)$/i.exec(part);
    const role = m ? PID_KEYS[m[1]!.toLowerCase()] : undefined;
    if (!m || !role || Number(m[2]) < 1) {
      throw new Error(`--pids: "${part}" is not name=pid with name one of ${Object.keys(PID_KEYS).join(', ')}`);
    }
    out[role] = Number(m[2]);
  }
  return out;
}

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'tcp:': 1883, 'mqtts:': 8883, 'tls:': 8883, 'ssl:': 8883, 'ws:': 80, 'wss:': 443, 'http:': 80, 'https:': 443 };

export function urlPort(url: string): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : (DEFAULT_PORTS[u.protocol] ?? 0);
}

export interface CpuTargetInput {
  mqttUrl: string;
  influxUrl: string;
  apiUrl: string;
  pids?: Partial<Record<Role, number>>;
}

/** Which local process plays each role (merged when one process plays several). */
export function findTargets(i: CpuTargetInput, selfPid = process.pid): CpuTarget[] {
  const urls: Array<[Role, string]> = [
    ['service', i.apiUrl],
    ['broker', i.mqttUrl],
    ['InfluxDB', i.influxUrl],
  ];
  const byPid = new Map<number, CpuTarget>();
  const self: CpuTarget = { roles: ['load tester'], pid: selfPid, name: processName(selfPid) ?? 'node' };
  byPid.set(selfPid, self);
  const out: CpuTarget[] = [self];
  for (const [role, url] of urls) {
    let pid = i.pids?.[role];
    if (pid === undefined) {
      const host = new URL(url).hostname;
      if (!isLocalHost(host)) {
        out.push({ roles: [role], unavailable: `not local (${host})` });
        continue;
      }
      pid = listeningPid(urlPort(url));
      if (pid === undefined) {
        out.push({ roles: [role], unavailable: `not found (nothing this user can see listens on port ${urlPort(url)})` });
        continue;
      }
    }
    const known = byPid.get(pid);
    if (known) {
      known.roles.push(role);
      continue;
    }
    const name = processName(pid);
    const t: CpuTarget = name === undefined ? { roles: [role], pid, unavailable: `pid ${pid} not readable in /proc` } : { roles: [role], pid, name };
    byPid.set(pid, t);
    out.push(t);
  }
  return out;
}

/** CPU so far of each target (ms), undefined where unavailable. */
export function readCpu(targets: CpuTarget[], selfPid = process.pid): Array<number | undefined> {
  return targets.map((t) => (t.unavailable !== undefined || t.pid === undefined ? undefined : t.pid === selfPid ? selfCpuMs() : cpuMs(t.pid)));
}

/**
 * Rows of the CPU table: CPU used between two readings, per message. The service's /metrics
 * (CPU seconds) stands in when the service is not measurable in /proc.
 */
export function cpuRows(
  targets: CpuTarget[],
  before: Array<number | undefined>,
  after: Array<number | undefined>,
  messages: number,
  serviceMetricsCpuMs: number | undefined,
  selfPid = process.pid,
): CpuRow[] {
  const per = (ms: number) => (messages > 0 ? (ms * 1000) / messages : undefined);
  return targets.map((t, k) => {
    const roles = t.roles.join(' + ');
    const b = before[k];
    const a = after[k];
    if (t.unavailable === undefined && t.pid !== undefined && b !== undefined && a !== undefined) {
      const ms = a - b;
      const row: CpuRow = { roles, process: `${t.name ?? '?'} (pid ${t.pid})`, cpuMs: ms, source: t.pid === selfPid ? 'process.cpuUsage' : '/proc' };
      const u = per(ms);
      if (u !== undefined) row.usPerMsg = u;
      if (t.roles.length > 1) row.note = 'one process: the figure covers every role listed';
      return row;
    }
    if (t.roles.includes('service') && serviceMetricsCpuMs !== undefined) {
      const row: CpuRow = { roles, process: 'from /metrics', cpuMs: serviceMetricsCpuMs, source: '/metrics' };
      const u = per(serviceMetricsCpuMs);
      if (u !== undefined) row.usPerMsg = u;
      row.note = `${t.unavailable ?? 'gone'}; the service's process_cpu_seconds_total`;
      return row;
    }
    return { roles, process: '-', note: t.unavailable ?? 'process gone during the run' };
  });
}
