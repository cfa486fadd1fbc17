/**
 * Connecting many bench users at once, and creating the conversations they talk
 * in. With several nodes, user i connects to node i mod N (round-robin by the
 * user's index), unless the scenario places its users itself.
 */
import { runPool } from '../util/pool.ts';
import { BenchSocket } from '../wire/bench-socket.ts';
import { makeUsers, type BenchUser } from '../wire/tokens.ts';
import { nodeFor, type Target, type TargetNode } from '../target/target.ts';

/** Parallel handshakes: enough to be quick, few enough not to look like a flood to the node's accept loop. */
const CONNECT_CONCURRENCY = 64;

/** Attempts per connection: a failed handshake is retried (and counted) rather than failing the whole run. */
const CONNECT_ATTEMPTS = 3;

/** Handshakes that failed and were retried, across the run (reported, since each is a service fault). */
export const connectRetries = { count: 0, lastError: '' };

export async function connectUsers(target: Target, count: number, firstIndex = 0): Promise<{ users: BenchUser[]; sockets: BenchSocket[] }> {
  const users = await makeUsers(count, target.jwtSecret, firstIndex);
  return { users, sockets: await connectPlaced(users, (user) => nodeFor(target, user.index)) };
}

/** Connects each user to the node `placement` names for it. */
export function connectPlaced(users: readonly BenchUser[], placement: (user: BenchUser) => TargetNode): Promise<BenchSocket[]> {
  return runPool(users, CONNECT_CONCURRENCY, (user) => connectWithRetry(placement(user), user.token));
}

export async function connectWithRetry(node: TargetNode, token: string): Promise<BenchSocket> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await BenchSocket.connect({ url: node.wsUrl, token });
    } catch (err) {
      if (attempt >= CONNECT_ATTEMPTS) throw err;
      connectRetries.count++;
      connectRetries.lastError = err instanceof Error ? err.message : String(err);
    }
  }
}

/** conv.direct between each pair (a[i], b[i]), asked by a[i]; returns the conversation ids. */
export async function createDirects(askers: readonly BenchSocket[], others: readonly BenchSocket[]): Promise<string[]> {
  return runPool(askers, CONNECT_CONCURRENCY, async (socket, i) => {
    const reply = await socket.call('conv.direct', { user_id: (others[i] as BenchSocket).userId });
    return conversationIdOf(reply);
  });
}

/** conv.group created by the first member of each group. */
export async function createGroups(groups: readonly BenchSocket[][]): Promise<string[]> {
  return runPool(groups, 8, async (members) => {
    const [creator, ...rest] = members;
    if (creator === undefined) throw new Error('empty group');
    const reply = await creator.call('conv.group', { user_ids: rest.map((m) => m.userId) });
    return conversationIdOf(reply);
  });
}

function conversationIdOf(reply: Record<string, unknown>): string {
  const conversation = reply['conversation'] as { id?: unknown } | undefined;
  if (typeof conversation?.id !== 'string') throw new Error(`reply without conversation.id: ${JSON.stringify(reply).slice(0, 200)}`);
  return conversation.id;
}

export async function closeAll(sockets: readonly BenchSocket[]): Promise<void> {
  await Promise.all(sockets.map((s) => s.close()));
}
