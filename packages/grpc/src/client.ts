/**
 * A client of the internal API, for the platform's other services written in
 * TypeScript, the tests and operators' scripts: one typed method per call of
 * messaging.proto, rejecting with grpc-js's ServiceError (its `code` is the
 * status).
 */
import { readFileSync } from 'node:fs';
import { Client, credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { messagingService } from './service-definition.ts';
import type {
  CreateConversationRequest, CreateConversationResponse, GetMessageMetadataRequest, GetMessageMetadataResponse,
  SyncBlocksRequest, SyncBlocksResponse, SyncGroupMembersRequest, SyncGroupMembersResponse,
} from './wire.ts';

export interface MessagingClientOptions {
  /** host:port of a node's gRPC API. */
  address: string;
  /** The shared token, sent as `authorization: Bearer <token>`; absent: no header. */
  token?: string;
  /** PEM files for TLS: the CA that signs the server, and this client's certificate and key (mutual TLS; a server with TLS requires them). */
  tls?: { caFile: string; certFile?: string; keyFile?: string; serverName?: string };
  /** Deadline of each call (default 10 s). */
  timeoutMs?: number;
}

/** A request as a caller writes it: protobuf makes every field optional (an unset one is its default). */
export type Outgoing<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object | null | undefined ? Outgoing<NonNullable<T[K]>> : T[K];
};

type Requests = {
  CreateConversation: [Outgoing<CreateConversationRequest>, CreateConversationResponse];
  SyncGroupMembers: [Outgoing<SyncGroupMembersRequest>, SyncGroupMembersResponse];
  GetMessageMetadata: [Outgoing<GetMessageMetadataRequest>, GetMessageMetadataResponse];
  SyncBlocks: [Outgoing<SyncBlocksRequest>, SyncBlocksResponse];
};

export class MessagingClient {
  private readonly client: Client;

  constructor(private readonly options: MessagingClientOptions) {
    const tls = options.tls;
    const creds: ChannelCredentials = tls
      ? credentials.createSsl(
        readFileSync(tls.caFile),
        tls.keyFile !== undefined ? readFileSync(tls.keyFile) : null,
        tls.certFile !== undefined ? readFileSync(tls.certFile) : null,
      )
      : credentials.createInsecure();
    this.client = new Client(options.address, creds, tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {});
  }

  createConversation(req: Requests['CreateConversation'][0]): Promise<CreateConversationResponse> {
    return this.unary('CreateConversation', req);
  }

  syncGroupMembers(req: Requests['SyncGroupMembers'][0]): Promise<SyncGroupMembersResponse> {
    return this.unary('SyncGroupMembers', req);
  }

  getMessageMetadata(req: Requests['GetMessageMetadata'][0]): Promise<GetMessageMetadataResponse> {
    return this.unary('GetMessageMetadata', req);
  }

  syncBlocks(req: Requests['SyncBlocks'][0]): Promise<SyncBlocksResponse> {
    return this.unary('SyncBlocks', req);
  }

  close(): void {
    this.client.close();
  }

  private unary<M extends keyof Requests>(method: M, req: Requests[M][0]): Promise<Requests[M][1]> {
    const definition = messagingService()[method];
    if (!definition) return Promise.reject(new Error(`messaging.proto has no method ${method}`));
    const metadata = new Metadata();
    if (this.options.token !== undefined) metadata.set('authorization', `Bearer ${this.options.token}`);
    const deadline = Date.now() + (this.options.timeoutMs ?? 10_000);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        definition.path,
        (value: Requests[M][0]) => definition.requestSerialize(value),
        // The server encoded it from messaging.proto, whose shapes wire.ts states.
        (bytes: Buffer) => definition.responseDeserialize(bytes) as Requests[M][1],
        req,
        metadata,
        { deadline },
        (err: ServiceError | null, res?: Requests[M][1]) => (err ? reject(err) : res ? resolve(res) : reject(new Error(`${method}: no response`))),
      );
    });
  }
}
