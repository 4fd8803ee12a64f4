import type { Role } from '../db/generated/enums.js';
import type { Db } from '../db/client.js';

/** Roles that handle queries and may use mail commands. */
export const STAFF_ROLES: readonly Role[] = ['employee', 'manager', 'admin'];

/** True for employees, managers and administrators. */
export function isStaff(role: Role): boolean {
  return STAFF_ROLES.includes(role);
}

/** Lower-case and trim an address so that it can be compared and stored once. */
export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

/** Find a user by address, or create a customer for an address never seen before. */
export async function findOrCreateUserByEmail(db: Db, address: string, name?: string | null) {
  const email = normalizeAddress(address);
  return db.user.upsert({
    where: { email },
    create: { email, name: name?.trim() || null, role: 'customer' },
    update: {},
  });
}
