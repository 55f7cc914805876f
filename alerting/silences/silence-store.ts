// Silences and maintenance windows, always with an end time. An alert is muted while any active
// one matches it: every matcher the silence gives (partner, customer, site, device, rule) equals
// the alert's. The active ones are cached in memory: this is asked on every alert transition.
import type { Database } from '../../src/storage/database.js';

export interface Matchers {
  partnerId?: string | null;
  customerId?: string | null;
  siteId?: string | null;
  deviceId?: string | null;
  rule?: string | null;
}

export interface Silence extends Required<Matchers> {
  id: number;
  kind: 'silence' | 'maintenance';
  startsMs: number;
  endsMs: number;
  createdBy: string;
  comment: string;
}

export interface NewSilence extends Matchers {
  kind: 'silence' | 'maintenance';
  startsMs: number;
  endsMs: number;
  createdBy: string;
  comment: string;
}

interface Row {
  id: number;
  kind: Silence['kind'];
  partner_id: string | null;
  customer_id: string | null;
  site_id: string | null;
  device_id: string | null;
  rule: string | null;
  starts_ms: number;
  ends_ms: number;
  created_by: string;
  comment: string;
}

const toSilence = (r: Row): Silence => ({
  id: r.id,
  kind: r.kind,
  partnerId: r.partner_id,
  customerId: r.customer_id,
  siteId: r.site_id,
  deviceId: r.device_id,
  rule: r.rule,
  startsMs: r.starts_ms,
  endsMs: r.ends_ms,
  createdBy: r.created_by,
  comment: r.comment,
});

export class SilenceStore {
  private cache: Silence[] | undefined;
  /** Bumped whenever a silence is added or ended by hand: muted alerts may need another look. */
  version = 0;

  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  add(s: NewSilence): Silence {
    if (!(s.endsMs > s.startsMs)) throw new Error('a silence needs an end time after its start');
    if (!s.partnerId && !s.customerId && !s.siteId && !s.deviceId && !s.rule) throw new Error('a silence needs at least one matcher');
    const id = Number(
      this.db
        .prepare(`INSERT INTO silences (kind, partner_id, customer_id, site_id, device_id, rule, starts_ms, ends_ms, created_by, comment, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(s.kind, s.partnerId ?? null, s.customerId ?? null, s.siteId ?? null, s.deviceId ?? null, s.rule ?? null, s.startsMs, s.endsMs, s.createdBy, s.comment, this.clock()).lastInsertRowid,
    );
    this.cache = undefined;
    this.version++;
    return this.get(id)!;
  }

  /** Ends a silence now (it stays in the history). */
  expire(id: number): void {
    const now = this.clock();
    this.db.prepare(`UPDATE silences SET ends_ms = MAX(starts_ms + 1, ?) WHERE id = ? AND ends_ms > ?`).run(now, id, now);
    this.cache = undefined;
    this.version++;
  }

  get(id: number): Silence | undefined {
    const r = this.db.prepare<Row>(`SELECT * FROM silences WHERE id = ?`).get(id);
    return r && toSilence(r);
  }

  list(filter: { partnerId?: string; activeAt?: number } = {}): Silence[] {
    const rows = this.db.prepare<Row>(`SELECT * FROM silences ORDER BY id DESC LIMIT 1000`).all().map(toSilence);
    return rows.filter((s) => (filter.partnerId === undefined || s.partnerId === filter.partnerId) && (filter.activeAt === undefined || (s.startsMs <= filter.activeAt && filter.activeAt < s.endsMs)));
  }

  /** When the next silence running or planned at `now` ends (Infinity: none). */
  nextEndAfter(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const s of this.notEnded(now)) if (s.endsMs < next) next = s.endsMs;
    return next;
  }

  /** Silences not yet ended at `now`, future ones included; reloaded whenever one ends or is added. */
  private notEnded(now: number): Silence[] {
    if (!this.cache || this.cache.some((s) => s.endsMs <= now)) {
      this.cache = this.db.prepare<Row>(`SELECT * FROM silences WHERE ends_ms > ?`).all(now).map(toSilence);
    }
    return this.cache;
  }

  /** The silence muting an alert with these attributes at `now`, if any. */
  muting(a: Matchers, now: number): Silence | undefined {
    for (const s of this.notEnded(now)) {
      if (s.startsMs > now || s.endsMs <= now) continue;
      if (s.partnerId !== null && s.partnerId !== a.partnerId) continue;
      if (s.customerId !== null && s.customerId !== a.customerId) continue;
      if (s.siteId !== null && s.siteId !== a.siteId) continue;
      if (s.deviceId !== null && s.deviceId !== a.deviceId) continue;
      if (s.rule !== null && s.rule !== a.rule) continue;
      return s;
    }
    return undefined;
  }
}
