// InfluxDB 1.x line protocol for the measurements of CONTRACT section 3. Lines end in "\n" so the
// journal can store them as they are and a batch is their plain concatenation. Timestamps in ms.
import type { DeviceEvent, StatusSnapshot } from './messages.js';

const TAG_SPECIAL = /[,= \\\n]/g;
const STRING_SPECIAL = /["\\\n]/g;

export function escapeTag(value: string): string {
  return TAG_SPECIAL.test(value) ? value.replace(TAG_SPECIAL, (c) => (c === '\n' ? ' ' : '\\' + c)) : value;
}

export function escapeFieldString(value: string): string {
  return STRING_SPECIAL.test(value) ? value.replace(STRING_SPECIAL, (c) => (c === '\n' ? ' ' : '\\' + c)) : value;
}

/** Tags that say whose device this is; sorted by key, as InfluxDB prefers. */
export interface TenantTags {
  partner: string;
  customer: string;
  site: string;
  device: string;
  model: string;
}

export function tenantTagSet(t: TenantTags): string {
  return `customer=${escapeTag(t.customer)},device=${escapeTag(t.device)},model=${escapeTag(t.model)},partner=${escapeTag(t.partner)},site=${escapeTag(t.site)}`;
}

// Floats are written without a suffix (InfluxDB reads 12 as 12.0), integers with "i".
// Every field keeps one type forever, or InfluxDB rejects the point: see docs/influxdb.md.
export function statusLine(tagSet: string, s: StatusSnapshot): string {
  let line = `device_status,${tagSet} seq=${s.seq}i,firmware="${escapeFieldString(s.firmware)}"`;
  if (s.uptimeS !== undefined) line += `,uptime_s=${Math.round(s.uptimeS)}i`;
  if (s.cpuPct !== undefined) line += `,cpu_pct=${s.cpuPct}`;
  if (s.memPct !== undefined) line += `,mem_pct=${s.memPct}`;
  if (s.tempC !== undefined) line += `,temp_c=${s.tempC}`;
  if (s.fanRpm !== undefined) line += `,fan_rpm=${Math.round(s.fanRpm)}i`;
  if (s.linkUp !== undefined) line += s.linkUp ? ',link_up=true' : ',link_up=false';
  if (s.rttMs !== undefined) line += `,rtt_ms=${s.rttMs}`;
  if (s.jitterMs !== undefined) line += `,jitter_ms=${s.jitterMs}`;
  if (s.lossPct !== undefined) line += `,loss_pct=${s.lossPct}`;
  if (s.inCall !== undefined) line += s.inCall ? ',in_call=true' : ',in_call=false';
  if (s.mos !== undefined) line += `,mos=${s.mos}`;
  if (s.cloudRegistered !== undefined) line += s.cloudRegistered ? ',cloud_registered=true' : ',cloud_registered=false';
  if (s.peripheralsFailed !== undefined) line += `,peripherals_failed=${s.peripheralsFailed}i`;
  return `${line} ${s.ts}\n`;
}

const MAX_EVENT_DATA_CHARS = 4096;

export function eventLine(tagSet: string, e: DeviceEvent): string {
  let data = JSON.stringify(e.data);
  if (data.length > MAX_EVENT_DATA_CHARS) data = data.slice(0, MAX_EVENT_DATA_CHARS);
  let fields = `data="${escapeFieldString(data)}"`;
  const code = e.data.code;
  if (typeof code === 'string' || typeof code === 'number') fields += `,code="${escapeFieldString(String(code).slice(0, 64))}"`;
  const component = e.data.component;
  if (typeof component === 'string') fields += `,component="${escapeFieldString(component.slice(0, 64))}"`;
  return `device_event,${tagSet},severity=${e.severity},type=${e.type} ${fields} ${e.ts}\n`;
}

/** `reason` (a field, not a tag: it is not what people group by) says why a device went offline. */
export function presenceLine(tagSet: string, online: boolean, tsMs: number, reason?: string): string {
  return `device_presence,${tagSet} online=${online ? 'true' : 'false'}${reason ? `,reason="${reason}"` : ''} ${tsMs}\n`;
}
