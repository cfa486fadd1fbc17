/**
 * Checks of the internal API's request fields, run before a call routes
 * anything. protobuf already gives every field its declared type; these check
 * what protobuf cannot: ids are lowercase hyphenated UUIDs of users (never the
 * service's own placeholder id), lists are bounded and without duplicates.
 * Failures are the protocol's bad_request naming the field (INVALID_ARGUMENT).
 */
import { SERVICE_PRINCIPAL_ID } from '@whispr/actors';
import { badRequest, isUuid } from '@whispr/protocol';

const UUID_HINT = 'must be a lowercase hyphenated UUID';

export function requireUuid(field: string, value: unknown): string {
  if (!isUuid(value)) throw badRequest(field, value === '' || value === undefined || value === null ? `is required (${UUID_HINT.slice(8)})` : UUID_HINT);
  return value;
}

/** A user's id: a UUID that is not the service's placeholder principal. */
export function requireUserId(field: string, value: unknown): string {
  const id = requireUuid(field, value);
  if (id === SERVICE_PRINCIPAL_ID) throw badRequest(field, 'must be a user’s id, not the nil UUID');
  return id;
}

/** Distinct user ids, between `min` and `max` of them. */
export function requireUserIds(field: string, values: unknown, min: number, max: number): string[] {
  if (!Array.isArray(values)) throw badRequest(field, 'must be a list of UUIDs');
  if (values.length < min || values.length > max) throw badRequest(field, `must name from ${min} to ${max} users, got ${values.length}`);
  const seen = new Set<string>();
  values.forEach((value, i) => {
    const id = requireUserId(`${field}.${i}`, value);
    if (seen.has(id)) throw badRequest(`${field}.${i}`, `names ${id} twice`);
    seen.add(id);
  });
  return [...seen];
}

/** An optional UUID: protobuf's empty string means unset. */
export function optionalUuid(field: string, value: unknown): string | null {
  return value === '' || value === undefined || value === null ? null : requireUuid(field, value);
}
