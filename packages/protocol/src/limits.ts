/** Limits announced in `hello` and enforced by the service (PROTOCOL.md §2). */
export interface Limits {
  max_frame_bytes: number;
  max_content_bytes: number;
  max_metadata_bytes: number;
  history_max: number;
  send_rate_per_s: number;
  send_burst: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  max_frame_bytes: 256 * 1024,
  max_content_bytes: 64 * 1024,
  max_metadata_bytes: 8 * 1024,
  history_max: 200,
  send_rate_per_s: 50,
  send_burst: 200,
});

/** Most members a group may be created with or grow to in one request. */
export const GROUP_USER_IDS_MAX = 1000;
/** Most cursors a sync may carry. */
export const SYNC_CURSORS_MAX = 1000;
/** Most conversations one conv.list page returns. */
export const CONV_LIST_MAX = 100;
/** Most consecutive undecodable frames before the connection is closed with 1008. */
export const MAX_CONSECUTIVE_BAD_FRAMES = 20;
