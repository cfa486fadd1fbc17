/**
 * GetMessageMetadata (seed §4.3, "accès restreint aux métadonnées"): what
 * describes a message from outside, never its content (store
 * message-metadata-repo.ts says which columns).
 *
 * Read from PostgreSQL by the node that took the call, not through the owner:
 * every write is acknowledged only after its commit, so what a caller could have
 * learnt exists is there; and a look-up by another service loads no actor into
 * the owner's memory.
 */
import { notFound } from '@whispr/protocol';
import { messageMetadata, type Queryable } from '@whispr/store';
import { requireUuid } from '../fields.ts';
import { wireMessageMetadata, type GetMessageMetadataRequest, type GetMessageMetadataResponse } from '../wire.ts';

export async function getMessageMetadata(db: Queryable, req: GetMessageMetadataRequest): Promise<GetMessageMetadataResponse> {
  const conversationId = requireUuid('conversation_id', req.conversation_id);
  const messageId = requireUuid('message_id', req.message_id);
  const lookup = await messageMetadata(db, conversationId, messageId);
  switch (lookup.found) {
    case 'nothing':
      throw notFound('no such conversation');
    case 'conversation':
      throw notFound('no such message in this conversation');
    case 'message':
      return { message: wireMessageMetadata(lookup.message) };
  }
}
