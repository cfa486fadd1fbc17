/** The public API of the Whispr client SDK. */
export { WhisprClient, type SendOptions, type SyncCursor } from './client.ts';
export type { ConnectOptions, RequestFields } from './connection.ts';
export { SyncTracker, type AbsorbResult, type MessageKey, type SyncSource } from './sync-tracker.ts';
export { WhisprConnectionClosedError, WhisprRequestError, WhisprTimeoutError, WhisprUpgradeError } from './errors.ts';
export { contentBytes, randomClientRandom, textOf } from './content.ts';
export type * from './events.ts';
// Reply types live in the protocol package (shared with the service); re-exported for SDK users.
export type * from '@whispr/protocol/replies';
export type { WebSocketConstructor } from './socket.ts';
export { CloseCode, ErrorCode, type Conversation, type Member, type Message, type Limits } from '@whispr/protocol';
// The server's own rule for a reaction string, to check one before sending (docs/protocol.md §14).
export { reactionProblem } from '@whispr/protocol';
export { mintDevToken, userIdFromName } from './token.ts';
