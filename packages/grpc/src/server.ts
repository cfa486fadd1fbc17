/**
 * The internal gRPC API's server (messaging.proto): started by the node's
 * composition root on its own port when WHISPR_GRPC_PORT is set, stopped before
 * the node leaves the ring so the calls it took are answered by the owners.
 *
 * Each call: the bearer token first (UNAUTHENTICATED, nothing else looked at),
 * then the request's fields (INVALID_ARGUMENT, nothing routed), then the work,
 * its errors mapped to status codes by status.ts's one table.
 */
import { Server, status, type handleUnaryCall, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type pg from 'pg';
import type { Logger } from 'pino';
import { BearerCheck } from './auth.ts';
import { createConversation } from './calls/create-conversation.ts';
import { getMessageMetadata } from './calls/message-metadata.ts';
import { syncBlocks } from './calls/sync-blocks.ts';
import { syncGroupMembers } from './calls/sync-group-members.ts';
import { serverCredentials, type GrpcTlsFiles } from './credentials.ts';
import type { OwnerCalls } from './owner-calls.ts';
import { messagingService } from './service-definition.ts';
import { toStatus } from './status.ts';

export interface GrpcServerConfig {
  /** Bind address (WHISPR_GRPC_HOST, default the node's HOST). */
  host: string;
  /** Port (WHISPR_GRPC_PORT); 0 asks the OS for a free one. */
  port: number;
  /** The shared bearer token every call must carry (WHISPR_GRPC_TOKEN). */
  token: string;
  /** Mutual TLS (WHISPR_GRPC_TLS_CERT/KEY/CA); plaintext when absent. */
  tls?: GrpcTlsFiles;
}

export interface GrpcServerOptions extends GrpcServerConfig {
  owners: OwnerCalls;
  /** For what is read or written outside any conversation's owner (message metadata, user_blocks). */
  pool: pg.Pool;
  /** The node's max_metadata_bytes, for a group's metadata. */
  maxMetadataBytes: number;
  logger: Logger;
}

/** Largest request accepted: a SyncBlocks of 10,000 ids is about 400 kB. */
const MAX_REQUEST_BYTES = 1024 * 1024;
/** Calls in flight on one connection (HTTP/2 streams); the owners' own bounds apply behind them. */
const MAX_STREAMS_PER_CONNECTION = 256;
/** How long a stop waits for calls in flight before cutting them. */
const STOP_GRACE_MS = 5_000;

export class GrpcApi {
  private constructor(private readonly server: Server, readonly port: number, private readonly logger: Logger) {}

  static async start(o: GrpcServerOptions): Promise<GrpcApi> {
    const server = new Server({ 'grpc.max_receive_message_length': MAX_REQUEST_BYTES, 'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION });
    const bearer = new BearerCheck(o.token);
    const unary = <Req, Res>(method: string, run: (req: Req) => Promise<Res>): handleUnaryCall<Req, Res> =>
      (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
        if (!bearer.accepts(call.metadata)) {
          callback({ code: status.UNAUTHENTICATED, details: 'missing or wrong bearer token' });
          return;
        }
        run(call.request).then((res) => callback(null, res), (err: unknown) => callback(toStatus(err, o.logger, method)));
      };
    server.addService(messagingService(), {
      CreateConversation: unary('CreateConversation', (req) => createConversation(o.owners, o.maxMetadataBytes, req)),
      SyncGroupMembers: unary('SyncGroupMembers', (req) => syncGroupMembers(o.owners, req)),
      GetMessageMetadata: unary('GetMessageMetadata', (req) => getMessageMetadata(o.pool, req)),
      SyncBlocks: unary('SyncBlocks', (req) => syncBlocks(o.pool, o.owners, req)),
    });
    const host = o.host.includes(':') && !o.host.startsWith('[') ? `[${o.host}]` : o.host;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${o.port}`, serverCredentials(o.tls), (err, bound) => (err ? reject(new Error(`the gRPC server cannot listen on ${host}:${o.port}`, { cause: err })) : resolve(bound)));
    });
    o.logger.info({ port, tls: o.tls !== undefined }, 'grpc api listening');
    return new GrpcApi(server, port, o.logger);
  }

  /** Stops taking calls and waits for those in flight (at most STOP_GRACE_MS, then cuts them). */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.logger.warn('grpc calls still in flight at the stop grace: cut');
        this.server.forceShutdown();
        resolve();
      }, STOP_GRACE_MS);
      force.unref();
      this.server.tryShutdown((err) => {
        clearTimeout(force);
        if (err) this.logger.warn({ err }, 'grpc server shutdown');
        resolve();
      });
    });
  }
}
