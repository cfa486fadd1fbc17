/** Per-connection state, kept as the uWebSockets.js socket's user data. */
import type { WebSocket } from 'uWebSockets.js';
import type { Logger } from 'pino';
import type { Enc } from '@whispr/actors';
import type { FrameVerdicts } from './frame-verdicts.ts';

/** An event held back while the connection's offline queue is being drained. */
export interface HeldEvent {
  json: Uint8Array;
  mp: Uint8Array;
  conversationId: string | null;
  seq: number;
}

export interface Connection {
  readonly id: number;
  readonly userId: string;
  readonly sessionId: string;
  readonly enc: Enc;
  /** Token expiry in ms since the epoch, or null. */
  readonly exp: number | null;
  readonly ip: string;
  readonly userAgent: string;
  readonly connectedAt: number;
  ws: WebSocket<Connection> | null;
  /** Bound to the connection; built on first use, since most connections never log. */
  readonly log: Logger;
  /** Consecutive frames that could not be decoded or were not objects, in read order. */
  readonly verdicts: FrameVerdicts;
  /** Requests handed on and not yet answered. */
  inflight: number;
  /** Offline queue being drained: live events are held until it is done. */
  draining: boolean;
  held: HeldEvent[];
  /** Bytes of the held events, and how many may be held before the connection is closed as a slow reader. */
  heldBytes: number;
  readonly heldLimit: number;
  /**
   * Set once the server decided to close: no request runs any more, and the close
   * frame goes out after the replies of the requests already read (or, for a
   * slow reader, once its backlog has drained), within a bounded time.
   */
  closing: { code: number; reason: string; timer: NodeJS.Timeout; lingerUntil: number } | null;
  /** (conversation:seq) of events sent from the offline queue, to skip their live copies. */
  drained: Set<string> | null;
  closed: boolean;
  lastActivity: number;
  expiryTimer: NodeJS.Timeout | null;
}
