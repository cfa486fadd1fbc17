/**
 * The dispatch table: every op of the protocol and its handler (ops/op.ts says
 * what a handler states). One file per op or small family.
 */
import { internalBlocksChanged } from './blocks-changed.ts';
import { convUpdate } from './conv-update.ts';
import { convDirect, convGet, convGroup } from './conversations.ts';
import { convLeave, convMembersAdd, convMembersRemove } from './members.ts';
import { msgDelete } from './msg-delete.ts';
import { msgEdit } from './msg-edit.ts';
import { msgGet, msgReceipts } from './msg-get.ts';
import { convArchive, retentionExpire } from './maintenance.ts';
import { msgHistory } from './msg-history.ts';
import { msgSend } from './msg-send.ts';
import { answeredByGateway } from './on-gateway.ts';
import type { OpTable } from './op.ts';
import { convPins, msgPin, msgUnpin } from './pins.ts';
import { msgReact, msgUnreact } from './reactions.ts';
import { receiptDelivered, receiptRead } from './receipts.ts';
import { schedCancel, schedCreate, schedList } from './scheduled.ts';
import { convSettingsGet, convSettingsSet, memberSettingsSet } from './settings.ts';
import { typingOp } from './typing.ts';
import { convListOp, pingOp, syncOp } from './user.ts';

export const OPS: OpTable = {
  ping: pingOp,
  'conv.direct': convDirect,
  'conv.group': convGroup,
  'conv.get': convGet,
  'conv.list': convListOp,
  'conv.update': convUpdate,
  'conv.settings.get': convSettingsGet,
  'conv.settings.set': convSettingsSet,
  'member.settings.set': memberSettingsSet,
  'conv.members.add': convMembersAdd,
  'conv.members.remove': convMembersRemove,
  'conv.leave': convLeave,
  'msg.send': msgSend,
  'msg.edit': msgEdit,
  'msg.delete': msgDelete,
  'msg.react': msgReact,
  'msg.unreact': msgUnreact,
  'msg.pin': msgPin,
  'msg.unpin': msgUnpin,
  'conv.pins': convPins,
  'msg.history': msgHistory,
  'msg.get': msgGet,
  'msg.receipts': msgReceipts,
  'receipt.delivered': receiptDelivered,
  'receipt.read': receiptRead,
  typing: typingOp,
  'presence.watch': answeredByGateway('presence.watch'),
  'presence.unwatch': answeredByGateway('presence.unwatch'),
  'sched.create': schedCreate,
  'sched.cancel': schedCancel,
  'sched.list': schedList,
  sync: syncOp,
  'internal.blocks.changed': internalBlocksChanged,
  'retention.expire': retentionExpire,
  'conv.archive': convArchive,
};
