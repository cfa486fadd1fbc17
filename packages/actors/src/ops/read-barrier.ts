/**
 * The start of a read that runs outside the conversation's line: checked in
 * line (the caller is `access` now), then waits until every write handed over
 * before it has committed, so a request sent after a reply sees that reply's
 * change. The query itself then runs without holding the line (sends keep flowing).
 */
import { settle, type Access, type Caller, type ConversationActor } from '../conversation-actor.ts';

export async function afterPriorWrites(actor: ConversationActor, caller: Caller, access: Access): Promise<void> {
  const barrier = await actor.serial(async () => {
    await actor.authorized(caller.userId, access);
    return { pending: actor.lastWrite };
  });
  await settle(barrier.pending);
}
