// Attribution: the tenant of a message comes from the registry, never from the device.
// Tag sets are built once per device and cached, since every message needs one.
import type { DeviceTenant } from '../src/storage/registry.js';
import { tenantTagSet } from './line-protocol.js';

export const UNKNOWN = 'unknown';
const MAX_CACHED = 500_000;

export interface Attribution {
  /** undefined for a device the registry does not know. */
  tenant: DeviceTenant | undefined;
  tagSet: string;
  /** The model in the tag set: the registry's, or what an unregistered device reported. */
  model: string;
}

export class TenantResolver {
  private tenants: Map<string, DeviceTenant>;
  private readonly cache = new Map<string, Attribution>();

  constructor(tenants: Map<string, DeviceTenant>) {
    this.tenants = tenants;
  }

  /** Called when the registry changed; cached tag sets are rebuilt lazily. */
  replace(tenants: Map<string, DeviceTenant>): void {
    this.tenants = tenants;
    this.cache.clear();
  }

  /** `reportedModel` names the model of an unregistered device (what the device says is all we have). */
  resolve(deviceId: string, reportedModel: string | undefined): Attribution {
    const cached = this.cache.get(deviceId);
    if (cached && (cached.tenant || reportedModel === undefined || cached.model === reportedModel)) return cached;
    const tenant = this.tenants.get(deviceId);
    const attribution: Attribution = tenant
      ? {
          tenant,
          model: tenant.model,
          tagSet: tenantTagSet({ partner: tenant.partnerId, customer: tenant.customerId, site: tenant.siteId, device: deviceId, model: tenant.model }),
        }
      : {
          tenant: undefined,
          model: reportedModel ?? UNKNOWN,
          tagSet: tenantTagSet({ partner: UNKNOWN, customer: UNKNOWN, site: UNKNOWN, device: deviceId, model: reportedModel ?? UNKNOWN }),
        };
    // Unregistered ids are not cached past a bound: a flood of made-up ids must not grow memory.
    if (tenant || this.cache.size < MAX_CACHED) this.cache.set(deviceId, attribution);
    return attribution;
  }
}
