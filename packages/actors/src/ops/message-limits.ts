/**
 * The size limits a message's content and metadata must keep (hello.limits:
 * max_content_bytes counts decoded bytes, max_metadata_bytes the metadata's
 * JSON). msg.send and msg.edit share them, so an edit can never store what a
 * send would refuse.
 */
import { tooLarge, type JsonObject, type Limits } from '@whispr/protocol';

/** Throws too_large naming the field; returns the metadata to store ({} when absent). */
export function checkMessageSize(limits: Limits, content: Uint8Array, metadata: JsonObject | undefined): JsonObject {
  if (content.byteLength > limits.max_content_bytes) throw tooLarge('content', `over ${limits.max_content_bytes} bytes`);
  const stored = metadata ?? {};
  if (Buffer.byteLength(JSON.stringify(stored)) > limits.max_metadata_bytes) throw tooLarge('metadata', `over ${limits.max_metadata_bytes} bytes`);
  return stored;
}
