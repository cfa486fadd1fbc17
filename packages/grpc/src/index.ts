export * from './server.ts';
export * from './client.ts';
export * from './owner-calls.ts';
export * from './status.ts';
export * from './wire.ts';
export { MIN_TOKEN_LENGTH } from './auth.ts';
export type { GrpcTlsFiles } from './credentials.ts';
export { PROTO_FILE, SERVICE_NAME } from './service-definition.ts';
export { MAX_BLOCKS_PER_USER } from './calls/sync-blocks.ts';
/** grpc-js's status codes, for callers comparing a ServiceError's code. */
export { status as GrpcStatus } from '@grpc/grpc-js';
