/**
 * direct --cross: user pairs whose direct conversation is owned by a node other
 * than the one both users connect to, so every msg.send is forwarded to the
 * owner and every msg.new comes back over the bus. The conversation id of a
 * pair is the server's own derivation (store's directConversationId), its owner
 * the ring's owner of that id: users are drawn at random until the pair lands
 * where it should. Pairs are balanced: pair i connects to node i mod N, and the
 * owners of each node's pairs take turns over the other nodes.
 */
import { randomUUID } from 'node:crypto';
import { directConversationId } from '@whispr/store';
import { HashRing } from '@whispr/cluster';
import type { NodeView } from '../target/node-view.ts';
import { ownerNode, type RegistryRing } from '../target/registry-ring.ts';

export interface PlacedPair {
  sender: string;
  receiver: string;
  conversationId: string;
  /** Index (in the target's nodes) of the node both users connect to. */
  clientNode: number;
  /** Index of the node owning the conversation. */
  ownerNode: number;
}

/** Draws per pair before giving up: a node the ring gives nothing to would otherwise loop forever. */
const MAX_DRAWS = 100_000;

export function choosePairs(pairs: number, nodeIds: readonly string[], registry: RegistryRing, newUser: () => string = randomUUID): PlacedPair[] {
  const n = nodeIds.length;
  if (n < 2) throw new Error(`cross-node pairs need two nodes or more, got ${n}`);
  return Array.from({ length: pairs }, (_, i) => {
    const clientNode = i % n;
    const owner = (clientNode + 1 + (Math.floor(i / n) % (n - 1))) % n;
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const sender = newUser();
      const receiver = newUser();
      const conversationId = directConversationId(sender, receiver);
      if (ownerNode(registry, conversationId) === nodeIds[owner]) return { sender, receiver, conversationId, clientNode, ownerNode: owner };
    }
    throw new Error(`no conversation owned by ${nodeIds[owner] ?? '?'} in ${MAX_DRAWS} draws: does the ring give that node any slot?`);
  });
}

/**
 * Why a pair would not cross nodes after all, checked against what the nodes say
 * (not only against the ring the pairs were drawn from): the id a node gave the
 * pair's conversation, and the owner by each node's own ring when it tells its
 * slots (GET /cluster). Empty when every pair crosses.
 */
export function crossProblems(placed: readonly PlacedPair[], createdIds: readonly string[], nodeIds: readonly string[], registry: RegistryRing, views: ReadonlyArray<NodeView | null>): string[] {
  const problems: string[] = [];
  const viewRings = views.map((v) => (v?.ringSlots == null ? null : new HashRing(v.ringSlots)));
  placed.forEach((pair, i) => {
    const name = `pair ${i + 1} (conversation ${pair.conversationId})`;
    if (createdIds[i] !== pair.conversationId) problems.push(`${name}: the node created ${createdIds[i] ?? 'nothing'}`);
    const owner = ownerNode(registry, pair.conversationId);
    if (owner === null || owner === nodeIds[pair.clientNode]) problems.push(`${name}: owned by ${owner ?? 'nobody'}, the node its clients use`);
    viewRings.forEach((ring, v) => {
      if (ring === null) return;
      const slot = ring.ownerOf(pair.conversationId);
      const viewOwner = slot === null ? null : (registry.nodeOfSlot.get(slot) ?? null);
      if (viewOwner !== owner) problems.push(`${name}: ${nodeIds[v] ?? `node ${v + 1}`} routes it to ${viewOwner ?? 'nobody'}, the registry's ring to ${owner ?? 'nobody'}`);
    });
  });
  return problems;
}
