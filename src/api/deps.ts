// What the API routes read and act on; wired in src/service.ts.
import type { LiveState } from '../../collector/device-state.js';
import type { Alerting } from '../../alerting/index.js';
import type { DeadLetterStore } from '../storage/dead-letters.js';
import type { Registry } from '../storage/registry.js';
import type { DeviceHistory } from '../telemetry/device-history.js';
import type { Influx1Store } from '../telemetry/influx1.js';
import type { DiagnosticsService } from '../diagnostics/diagnostics-service.js';

export interface ApiDeps {
  registry: Registry;
  liveState: LiveState;
  alerting: Alerting;
  deadLetters: DeadLetterStore;
  /** A device's telemetry summary from InfluxDB (its timeline). */
  telemetry: Pick<Influx1Store, 'deviceSummary'>;
  /** A device's events, alert transitions and firmware changes from InfluxDB (its timeline). */
  deviceHistory: Pick<DeviceHistory, 'events' | 'alerts' | 'firmwareChanges'>;
  /** Network tool runs (the commands sent to a device): a device's timeline, a ticket's evidence. */
  diagnostics?: Pick<DiagnosticsService, 'list' | 'history'>;
  clock: () => number;
}
