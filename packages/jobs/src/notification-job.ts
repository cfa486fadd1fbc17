/**
 * The notification job (queue `notifications`), the contract with the
 * notification-service (seed §4.2), which consumes the queue; this service only
 * produces. docs/notifications.md documents it for that service's authors.
 *
 * One job per committed message, naming every recipient who was connected
 * nowhere when it was delivered and has not muted the conversation, in chunks
 * of at most NOTIFICATION_RECIPIENTS_MAX. Why not one job per member and
 * message: the Redis work would grow as messages × offline members (a message
 * to a large group would write thousands of jobs on the send path), where one
 * per message keeps it at the message rate, and the notification-service, which
 * owns devices and preferences, fans out and coalesces per user itself.
 *
 * Versioned: `v` changes whenever a field changes meaning or goes away; fields
 * may be added within a version. No content, no metadata: the service notifies
 * that a message arrived, it never learns what it says (content is end-to-end
 * encrypted anyway).
 */
export const NOTIFICATION_JOB_VERSION = 1;
export const NOTIFICATION_JOB_NAME = 'message';
/** Most recipients one job names; a message to more offline members makes several jobs. */
export const NOTIFICATION_RECIPIENTS_MAX = 500;

export interface NotificationJobV1 {
  v: typeof NOTIFICATION_JOB_VERSION;
  conversation_id: string;
  message_id: string;
  seq: number;
  sender_id: string | null;
  /** ms since the epoch (UTC), the message's sent_at. */
  sent_at: number;
  message_type: 'text' | 'media' | 'system';
  /** Members to notify: offline everywhere when the message was delivered, not muted. */
  recipients: string[];
}

/** The job id: deterministic, so a delivery retried for the same message adds no second job. */
export const notificationJobId = (messageId: string, chunk: number): string => `${messageId}-${chunk}`;
