/**
 * The dispatch table: every op of the protocol and its handler (ops/op.ts says
 * what a handler states). One file per op or small family.
 */
import { convDirect, convGet, convGroup } from './conversations.ts';
import { msgHistory } from './msg-history.ts';
import { msgSend } from './msg-send.ts';
import { notYetForUser, notYetOnConversation } from './not-yet.ts';
import type { OpTable } from './op.ts';
import { receiptDelivered, receiptRead } from './receipts.ts';
import { schedCancel, schedCreate, schedList } from './scheduled.ts';
import { convListOp, pingOp, syncOp } from './user.ts';

export const OPS: OpTable = {
  ping: pingOp,
  'conv.direct': convDirect,
  'conv.group': convGroup,
  'conv.get': convGet,
  'conv.list': convListOp,
  'conv.update': notYetOnConversation('conv.update'),
  'conv.settings.get': notYetOnConversation('conv.settings.get'),
  'conv.settings.set': notYetOnConversation('conv.settings.set'),
  'member.settings.set': notYetOnConversation('member.settings.set'),
  'conv.members.add': notYetOnConversation('conv.members.add'),
  'conv.members.remove': notYetOnConversation('conv.members.remove'),
  'conv.leave': notYetOnConversation('conv.leave'),
  'msg.send': msgSend,
  'msg.edit': notYetOnConversation('msg.edit'),
  'msg.delete': notYetOnConversation('msg.delete'),
  'msg.react': notYetOnConversation('msg.react'),
  'msg.unreact': notYetOnConversation('msg.unreact'),
  'msg.pin': notYetOnConversation('msg.pin'),
  'msg.unpin': notYetOnConversation('msg.unpin'),
  'conv.pins': notYetOnConversation('conv.pins'),
  'msg.history': msgHistory,
  'msg.get': notYetOnConversation('msg.get'),
  'msg.receipts': notYetOnConversation('msg.receipts'),
  'receipt.delivered': receiptDelivered,
  'receipt.read': receiptRead,
  typing: notYetOnConversation('typing'),
  'presence.watch': notYetForUser('presence.watch'),
  'presence.unwatch': notYetForUser('presence.unwatch'),
  'sched.create': schedCreate,
  'sched.cancel': schedCancel,
  'sched.list': schedList,
  sync: syncOp,
};
