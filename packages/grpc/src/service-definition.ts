/**
 * The Messaging service as @grpc/proto-loader reads it from the repository's
 * .proto (proto/whispr/internal/v1/messaging.proto, the reference), shared by
 * the server and the client of client.ts.
 */
import { fileURLToPath } from 'node:url';
import { loadSync, type ServiceDefinition } from '@grpc/proto-loader';

export const PROTO_FILE = fileURLToPath(new URL('../proto/whispr/internal/v1/messaging.proto', import.meta.url));
export const SERVICE_NAME = 'whispr.internal.v1.Messaging';

/** How messages are handed to and taken from the handlers (wire.ts states the shapes these give). */
const LOADER_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true } as const;

let loaded: ServiceDefinition | null = null;

export function messagingService(): ServiceDefinition {
  if (loaded) return loaded;
  const definition = loadSync(PROTO_FILE, LOADER_OPTIONS)[SERVICE_NAME];
  if (!definition || 'format' in definition) throw new Error(`${PROTO_FILE} does not define the service ${SERVICE_NAME}`);
  loaded = definition;
  return loaded;
}
