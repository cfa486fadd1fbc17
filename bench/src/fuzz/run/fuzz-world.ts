/**
 * The users and conversations a fuzz run needs, created through the node
 * before fuzzing starts: F fuzz users in a ring (each in a direct conversation
 * and a group with its two neighbours, so every user has conversations of its
 * own and conversations of others it is not in), two bystanders with a direct
 * conversation nobody else is in, and the well-behaved pair, whose conversation
 * the fuzzers also aim at (they must get `forbidden`, and the pair must never
 * see their messages).
 */
import { connectUsers, closeAll } from '../../scenarios/connect-users.ts';
import type { Target } from '../../target/target.ts';
import type { BenchSocket } from '../../wire/bench-socket.ts';
import type { BenchUser } from '../../wire/tokens.ts';
import type { FuzzIdentity, FuzzLimits } from './identity.ts';

export interface FuzzWorld {
  fuzzers: Array<{ user: BenchUser; identity: FuzzIdentity }>;
  pair: { sockets: [BenchSocket, BenchSocket]; conversationId: string; firstIndex: number };
}

const conversationIdOf = (reply: Record<string, unknown>): string => {
  const id = (reply['conversation'] as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string') throw new Error(`no conversation in ${JSON.stringify(reply).slice(0, 200)}`);
  return id;
};

export async function createWorld(target: Target, fuzzUsers: number): Promise<FuzzWorld> {
  if (fuzzUsers < 3) throw new Error('a fuzz run needs at least 3 fuzz users (each must have conversations it is not in)');
  const fuzz = await connectUsers(target, fuzzUsers);
  const others = await connectUsers(target, 4, fuzzUsers);
  const [pairA, pairB, bystanderA, bystanderB] = others.sockets as [BenchSocket, BenchSocket, BenchSocket, BenchSocket];
  try {
    const members = new Map<string, string[]>();
    const ring = fuzz.sockets.map((socket, i) => ({ socket, next: fuzz.sockets[(i + 1) % fuzzUsers] as BenchSocket }));
    for (const { socket, next } of ring) {
      const direct = conversationIdOf(await socket.call('conv.direct', { user_id: next.userId }));
      const group = conversationIdOf(await socket.call('conv.group', { user_ids: [next.userId], metadata: { fuzz: true } }));
      members.set(direct, [socket.userId, next.userId]);
      members.set(group, [socket.userId, next.userId]);
    }
    const pairConversation = conversationIdOf(await pairA.call('conv.direct', { user_id: pairB.userId }));
    const bystanders = conversationIdOf(await bystanderA.call('conv.direct', { user_id: bystanderB.userId }));
    members.set(pairConversation, [pairA.userId, pairB.userId]);
    members.set(bystanders, [bystanderA.userId, bystanderB.userId]);
    const first = fuzz.sockets[0];
    if (first === undefined) throw new Error('no fuzz users connected');
    const limits: FuzzLimits = first.limits;
    const everyone = [...fuzz.users, ...others.users].map((u) => u.id);
    const fuzzers = fuzz.users.map((user) => {
      const own = [...members].filter(([, ids]) => ids.includes(user.id)).map(([id]) => id);
      const foreign = [...members].filter(([, ids]) => !ids.includes(user.id)).map(([id]) => id);
      return { user, identity: { userId: user.id, own, foreign, peers: everyone.filter((id) => id !== user.id), limits } };
    });
    return { fuzzers, pair: { sockets: [pairA, pairB], conversationId: pairConversation, firstIndex: fuzzUsers } };
  } finally {
    // The fuzzers reconnect over raw sockets; the bystanders only had to create their conversation.
    await closeAll([...fuzz.sockets, bystanderA, bystanderB]);
  }
}
