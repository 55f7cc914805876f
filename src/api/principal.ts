// Who is calling: a bearer token (stored hashed in the registry) resolved to a user with a role
// and, for partner roles, the one partner whose data they may see. Shared by REST and streams.
import type { Registry, Role } from '../storage/registry.js';

export interface Principal {
  userId: number;
  name: string;
  role: Role;
  /** null for noc, which sees every partner. */
  partnerId: string | null;
}

export function principalFromToken(registry: Pick<Registry, 'findUserByToken'>, token: string | undefined): Principal | undefined {
  if (!token) return undefined;
  const user = registry.findUserByToken(token);
  return user ? { userId: user.id, name: user.name, role: user.role, partnerId: user.partnerId } : undefined;
}

/** `Authorization: Bearer <token>` -> the token, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}

/** May this principal see data of `partnerId`? (noc: everything; partners: their own only) */
export function canSee(p: Principal, partnerId: string | null | undefined): boolean {
  return p.role === 'noc' || (partnerId !== null && partnerId !== undefined && partnerId === p.partnerId);
}

/** The partner filter to put into a query: undefined for noc (all), the own partner otherwise. */
export function partnerScope(p: Principal): string | undefined {
  return p.role === 'noc' ? undefined : (p.partnerId ?? '\u0000');
}
