/**
 * The users of the direct scenario and where they connect: P senders and P
 * receivers, pair i = (sender i, receiver i) in its direct conversation. By
 * default every user is placed round-robin by its index (sender i is user i,
 * receiver i is user P+i). With --cross both users of a pair connect to one
 * node and another node owns their conversation (cross-pairs.ts), which is
 * checked against the registry and every node's view before any load runs.
 */
import { say } from '../cli/progress.ts';
import { readNodeView } from '../target/node-view.ts';
import { readRegistryRing } from '../target/registry-ring.ts';
import { nodeGraceMs, clusterProblem } from '../target/wait-cluster.ts';
import type { Target, TargetNode } from '../target/target.ts';
import type { BenchSocket } from '../wire/bench-socket.ts';
import { usersWithIds } from '../wire/tokens.ts';
import { closeAll, connectPlaced, connectUsers, createDirects } from './connect-users.ts';
import { choosePairs, crossProblems, type PlacedPair } from './cross-pairs.ts';

export interface DirectPairs {
  senders: BenchSocket[];
  receivers: BenchSocket[];
  conversationIds: string[];
  /** The pairs' placement when --cross chose it. */
  placed: PlacedPair[] | null;
}

export async function roundRobinPairs(target: Target, pairs: number): Promise<DirectPairs> {
  say(`connecting ${pairs * 2} users${target.nodes.length > 1 ? ` over ${target.nodes.length} nodes, round-robin` : ''}`);
  const { sockets } = await connectUsers(target, pairs * 2);
  const senders = sockets.slice(0, pairs);
  const receivers = sockets.slice(pairs);
  try {
    return { senders, receivers, conversationIds: await createDirects(senders, receivers), placed: null };
  } catch (err) {
    await closeAll(sockets);
    throw err;
  }
}

export async function crossNodePairs(target: Target, pairs: number): Promise<DirectPairs> {
  if (target.redis === null) throw new Error('--cross needs the cluster\'s Redis prefix to read its ring: the bench must start the nodes');
  const nodeIds = target.nodes.map((n, i) => n.nodeId ?? `node ${i + 1}`);
  const registry = await readRegistryRing(target.redis.url, target.redis.prefix, nodeGraceMs());
  const views = await Promise.all(target.nodes.map((n) => readNodeView(n.httpUrl)));
  const problem = clusterProblem(target.nodes, registry, views);
  if (problem !== null) throw new Error(`--cross: the nodes do not agree on one ring: ${problem}`);
  const placed = choosePairs(pairs, nodeIds, registry);
  say(`connecting ${pairs * 2} users: each pair on one node, its conversation owned by another (${nodeIds.join(', ')})`);
  const senderUsers = await usersWithIds(placed.map((p) => p.sender), target.jwtSecret, 0);
  const receiverUsers = await usersWithIds(placed.map((p) => p.receiver), target.jwtSecret, pairs);
  const clientNode = (pairIndex: number): TargetNode => target.nodes[(placed[pairIndex] as PlacedPair).clientNode] as TargetNode;
  const senders = await connectPlaced(senderUsers, (u) => clientNode(u.index));
  const receivers = await connectPlaced(receiverUsers, (u) => clientNode(u.index - pairs)).catch(async (err: unknown) => {
    await closeAll(senders);
    throw err;
  });
  try {
    const conversationIds = await createDirects(senders, receivers);
    const problems = crossProblems(placed, conversationIds, nodeIds, registry, views);
    if (problems.length > 0) throw new Error(`--cross: ${problems.length} of ${pairs} pairs would not cross nodes; first: ${problems.slice(0, 3).join('; ')}`);
    const checkedBy = views.every((v) => v?.ringSlots != null) ? "the registry's ring and every node's own (GET /cluster)" : "the registry's ring (the nodes have no GET /cluster to check their own against)";
    say(`every pair's conversation is owned by another node than its clients', by ${checkedBy}`);
    return { senders, receivers, conversationIds, placed };
  } catch (err) {
    await closeAll([...senders, ...receivers]);
    throw err;
  }
}
