import { MAX_NESTING_DEPTH } from './frame-head.ts';
import { OP_RATES, type FixedRateClass, type Rate } from './op-rates.ts';
/** Limits announced in `hello` and enforced by the service (PROTOCOL.md §2). */
export interface Limits {
  max_frame_bytes: number;
  max_content_bytes: number;
  max_metadata_bytes: number;
  history_max: number;
  send_rate_per_s: number;
  send_burst: number;
  /** The rate of each op class but sends (op-rates.ts). */
  op_rates: Readonly<Record<FixedRateClass, Readonly<Rate>>>;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  max_frame_bytes: 256 * 1024,
  max_content_bytes: 64 * 1024,
  max_metadata_bytes: 8 * 1024,
  history_max: 200,
  send_rate_per_s: 50,
  send_burst: 200,
  op_rates: OP_RATES,
});

/** Most members a group may have, its creator included. */
export const MAX_GROUP_MEMBERS = 1000;
/** Most user ids conv.group may name (the creator is added to them). */
export const GROUP_USER_IDS_MAX = MAX_GROUP_MEMBERS - 1;
/** Most user ids one conv.members.add may name. */
export const MAX_MEMBERS_PER_ADD = 100;
/** Most cursors a sync may carry. */
export const SYNC_CURSORS_MAX = 1000;
/**
 * Longest reaction (PROTOCOL.md §5: 10 characters; the column is VARCHAR(10)).
 * Counted in Unicode code points, as PostgreSQL counts VARCHAR characters: an
 * emoji of several code points (skin tone, ZWJ sequence) counts each of them.
 */
export const MAX_REACTION_LENGTH = 10;
/**
 * Most distinct reactions one user may have on one message, and most distinct
 * reactions one message may carry from everyone: together they bound the
 * reactions[] of every message object (and so every history page).
 */
export const MAX_REACTIONS_PER_USER = 10;
export const MAX_REACTIONS_PER_MESSAGE = 50;
/** Most pinned messages one conversation may have (conv.pins returns them all). */
export const MAX_PINS = 50;
/** Most users one presence.watch may name (PROTOCOL.md §5: 500). */
export const MAX_PRESENCE_WATCH = 500;
/** Most users one connection may watch at once, over all its presence.watch calls (memory per connection is bounded). */
export const MAX_PRESENCE_WATCHED = 1000;
/** Most attachments one message may carry (references to media, never the bytes: seed §4.2). */
export const MAX_ATTACHMENTS = 32;
/** Longest media_type (a MIME type; the column is VARCHAR(50)). */
export const MAX_MEDIA_TYPE_LENGTH = 50;

/**
 * The fixed bounds announced in hello beside the configurable limits, so a
 * client can stay within them without learning them from refusals.
 */
export interface Bounds {
  max_group_members: number;
  max_members_per_add: number;
  max_sync_cursors: number;
  max_presence_watch: number;
  /** Most users one connection watches at once (presence.watch calls add up). */
  max_presence_watched: number;
  max_attachments: number;
  max_media_type_length: number;
  /** Deepest nesting of a frame, the request object being level 1 (protocol/frame-head.ts). */
  max_nesting_depth: number;
  max_reaction_length: number;
  max_reactions_per_user: number;
  max_reactions_per_message: number;
  max_pins: number;
}

export const BOUNDS: Readonly<Bounds> = Object.freeze({
  max_group_members: MAX_GROUP_MEMBERS,
  max_members_per_add: MAX_MEMBERS_PER_ADD,
  max_sync_cursors: SYNC_CURSORS_MAX,
  max_presence_watch: MAX_PRESENCE_WATCH,
  max_presence_watched: MAX_PRESENCE_WATCHED,
  max_attachments: MAX_ATTACHMENTS,
  max_media_type_length: MAX_MEDIA_TYPE_LENGTH,
  max_nesting_depth: MAX_NESTING_DEPTH,
  max_reaction_length: MAX_REACTION_LENGTH,
  max_reactions_per_user: MAX_REACTIONS_PER_USER,
  max_reactions_per_message: MAX_REACTIONS_PER_MESSAGE,
  max_pins: MAX_PINS,
});
/** Most conversations one conv.list page returns. */
export const CONV_LIST_MAX = 100;
/** sched.create: how far ahead scheduled_for must be at least (PROTOCOL.md §5), and at most. */
export const SCHEDULE_MIN_AHEAD_MS = 1000;
export const SCHEDULE_MAX_AHEAD_MS = 366 * 24 * 3600_000;
/** Most pending scheduled messages one sched.list returns (soonest first). */
export const SCHED_LIST_MAX = 500;
/** Most consecutive undecodable frames before the connection is closed with 1008. */
export const MAX_CONSECUTIVE_BAD_FRAMES = 20;
/**
 * Most seqs one retention.expire batch scans (and so most rows it changes): the
 * batch is one transaction in the conversation's line, kept short so live sends
 * queued behind it wait milliseconds, not seconds.
 */
export const RETENTION_BATCH_MAX = 1000;
