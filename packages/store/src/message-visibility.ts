/**
 * Which messages a viewer sees (PROTOCOL.md §5 "Details"). The seed models a
 * delete with two flags (§2.2.3): `is_deleted` with `delete_for_everyone` is a
 * tombstone every member sees; `is_deleted` alone is the sender's delete for
 * themselves, which hides the message from that sender only (their history,
 * msg.get, sync and last message) while the others keep it, unread if it was.
 * Only a message's sender can delete it, so "deleted for oneself" and "sent by
 * the viewer" go together.
 */

/** SQL: true when the message under `alias` is visible to the user in `viewerParam`. */
export const visibleTo = (alias: string, viewerParam: string): string =>
  `NOT (${alias}.is_deleted AND NOT ${alias}.delete_for_everyone AND ${alias}.sender_id = ${viewerParam})`;

/** SQL: true when the message under `alias` counts as unread (for a member other than its sender): not a tombstone, not the service's own. */
export const countsAsUnread = (alias: string): string =>
  `NOT (${alias}.is_deleted AND ${alias}.delete_for_everyone) AND ${alias}.message_type <> 'system'`;
