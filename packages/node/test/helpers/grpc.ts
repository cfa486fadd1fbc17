/** The internal gRPC API in tests: a node's config, a client of it, and the status a call ended with. */
import type { Test } from 'tap';
import { MessagingClient, type GrpcServerConfig, type MessagingClientOptions } from '@whispr/grpc';
import type { RunningNode } from '../../src/node.ts';

export const GRPC_TOKEN = 'grpc-test-token-0123456789';
export const grpcConfig = (extra: Partial<GrpcServerConfig> = {}): GrpcServerConfig => ({ host: '127.0.0.1', port: 0, token: GRPC_TOKEN, ...extra });

/** A client of `node`'s gRPC API, closed at teardown; with the right token unless `options` says otherwise. */
export function grpcClient(t: Test, node: RunningNode, options: Partial<MessagingClientOptions> = {}): MessagingClient {
  if (node.grpcPort === null) throw new Error('this node serves no gRPC API');
  const client = new MessagingClient({ address: `127.0.0.1:${node.grpcPort}`, token: GRPC_TOKEN, ...options });
  t.teardown(() => client.close());
  return client;
}

/** The gRPC status code a call ended with (0: OK), and its details. */
export async function statusOf(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await call;
    return { code: 0, details: '' };
  } catch (err) {
    if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'number') {
      return { code: err.code, details: 'details' in err && typeof err.details === 'string' ? err.details : '' };
    }
    throw err;
  }
}
