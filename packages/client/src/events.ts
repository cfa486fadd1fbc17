/**
 * The events a WhisprClient emits. Server events (PROTOCOL.md §6) keep their wire
 * shape, `ev` included, with `content` already turned into a Uint8Array; the
 * protocol package types them all.
 */
import type {
  ConvUpdatedEvent,
  HelloEvent,
  MsgDeletedEvent,
  MsgEditedEvent,
  MsgNewEvent,
  PinEvent,
  PresenceEvent,
  ReactionEvent,
  ReceiptEvent,
  Reply,
  TypingEvent,
} from '@whispr/protocol';

export type { ConvUpdatedEvent, HelloEvent, MsgDeletedEvent, MsgEditedEvent, MsgNewEvent, PinEvent, PresenceEvent, ReactionEvent, ReceiptEvent, TypingEvent };

/** Any server event, including ones this SDK does not know yet. */
export interface AnyServerEvent {
  ev: string;
  [field: string]: unknown;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Event name → payload, for `client.on(name, handler)`. */
export interface ClientEvents {
  'msg.new': MsgNewEvent;
  'msg.edited': MsgEditedEvent;
  'msg.deleted': MsgDeletedEvent;
  reaction: ReactionEvent;
  pin: PinEvent;
  receipt: ReceiptEvent;
  'conv.updated': ConvUpdatedEvent;
  presence: PresenceEvent;
  typing: TypingEvent;
  /** Every server event after hello, known or not, after its specific event. */
  event: AnyServerEvent;
  /** A reply that matches no pending request: `re: null` (undecodable frame) or an id the SDK did not send. */
  'reply.unmatched': Reply;
  /** The connection closed; every pending request has been rejected before this fires. */
  close: CloseInfo;
  /** A socket error or a server frame the SDK could not decode. The connection may still be open. */
  error: Error;
}

export type ClientEventName = keyof ClientEvents;
export type ClientEventHandler<E extends ClientEventName> = (payload: ClientEvents[E]) => void;

/** Server event names that map onto a specific ClientEvents entry. */
export const KNOWN_SERVER_EVENTS: ReadonlySet<string> = new Set<ClientEventName>([
  'msg.new',
  'msg.edited',
  'msg.deleted',
  'reaction',
  'pin',
  'receipt',
  'conv.updated',
  'presence',
  'typing',
]);
