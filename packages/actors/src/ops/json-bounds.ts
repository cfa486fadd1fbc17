/**
 * Checks on the free-form objects clients store (conversation metadata, settings):
 * plain JSON, so what is stored in a jsonb column is exactly what reads return
 * (MessagePack could carry binary, which JSON has no form for), and within the
 * metadata limit announced in hello.
 */
import { badRequest, tooLarge, type JsonObject } from '@whispr/protocol';

/** Throws bad_request naming the first value that is not plain JSON, too_large over `maxBytes` encoded. */
export function checkJsonObject(field: string, value: JsonObject, maxBytes: number): void {
  checkPlainJson(field, value);
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size > maxBytes) throw tooLarge(field, `over ${maxBytes} bytes`);
}

function checkPlainJson(path: string, value: unknown): void {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw badRequest(path, 'must be a finite number');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkPlainJson(`${path}.${i}`, item));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) checkPlainJson(`${path}.${key}`, item);
    return;
  }
  throw badRequest(path, 'must be plain JSON (no binary or other types)');
}
