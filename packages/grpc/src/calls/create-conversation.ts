/**
 * CreateConversation (seed §4.3): a direct or group conversation created on
 * behalf of a user, as that user's conv.direct / conv.group through the owner of
 * the id the router derives (the pair's id, or a fresh one), whichever node
 * that is. The user's rules apply as for a client (a block refuses it).
 */
import { badRequest, GROUP_USER_IDS_MAX, isPlainObject, tooLarge, type JsonObject } from '@whispr/protocol';
import { optionalUuid, requireUserId, requireUserIds } from '../fields.ts';
import type { OwnerCalls } from '../owner-calls.ts';
import { wireConversation, type CreateConversationRequest, type CreateConversationResponse } from '../wire.ts';

export async function createConversation(
  owners: OwnerCalls, maxMetadataBytes: number, req: CreateConversationRequest,
): Promise<CreateConversationResponse> {
  const acting = requireUserId('acting_user_id', req.acting_user_id);
  const principal = { kind: 'user', userId: acting } as const;
  if (req.kind === 'direct' && req.direct) {
    const other = requireUserId('direct.other_user_id', req.direct.other_user_id);
    if (other === acting) throw badRequest('direct.other_user_id', 'must not be acting_user_id');
    const { conversation } = await owners.call(principal, { op: 'conv.direct', user_id: other });
    return { conversation: wireConversation(conversation) };
  }
  if (req.kind === 'group' && req.group) {
    const members = requireUserIds('group.member_ids', req.group.member_ids, 0, GROUP_USER_IDS_MAX);
    if (members.includes(acting)) throw badRequest('group.member_ids', 'must not name acting_user_id (the creator is a member already)');
    const externalGroupId = optionalUuid('group.external_group_id', req.group.external_group_id);
    const metadata = metadataOf(req.group.metadata_json, maxMetadataBytes);
    const { conversation } = await owners.call(principal, {
      op: 'conv.group', user_ids: members, external_group_id: externalGroupId, ...(metadata ? { metadata } : {}),
    });
    return { conversation: wireConversation(conversation) };
  }
  throw badRequest('kind', 'one of direct or group is required');
}

/** The group's metadata: a JSON object within the node's max_metadata_bytes, or none when empty. */
function metadataOf(json: string, maxBytes: number): JsonObject | null {
  if (json === '') return null;
  if (Buffer.byteLength(json, 'utf8') > maxBytes) throw tooLarge('group.metadata_json', `more than ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw badRequest('group.metadata_json', `is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isPlainObject(value)) throw badRequest('group.metadata_json', 'must be a JSON object');
  return value;
}
