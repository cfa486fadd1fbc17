/** Unit tests of the bench's cluster pieces: placing cross-node pairs, reading node views, the across-nodes tool's arguments and table. */
import t from 'tap';
import { directConversationId } from '@whispr/store';
import { parseOptions } from '../src/cli/options.ts';
import { choosePairs, crossProblems } from '../src/scenarios/cross-pairs.ts';
import { crossFigures } from '../src/scenarios/cross-evidence.ts';
import { parseClusterGauges, parseClusterReport, type NodeView } from '../src/target/node-view.ts';
import { ownerNode, ringOf } from '../src/target/registry-ring.ts';
import { nodeFor } from '../src/target/target.ts';
import { clusterProblem } from '../src/target/wait-cluster.ts';
import { parseAcrossArgs } from '../src/tools/across-nodes-args.ts';
import { acrossTable, median, roundRatios, type AcrossRun } from '../src/tools/across-nodes-table.ts';
import type { Summary } from '../src/report/result.ts';

const registry = ringOf(new Map([['node-a', ['node-a#0']], ['node-b', ['node-b#0']], ['node-c', ['node-c#0', 'node-c#1']]]));
const nodeIds = ['node-a', 'node-b', 'node-c'];

t.test('options: --nodes and --cross', async (t) => {
  t.equal(parseOptions(['direct']).nodes, 1);
  t.equal(parseOptions(['direct']).cross, false);
  t.equal(parseOptions(['direct', '--nodes', '2', '--cross']).cross, true);
  t.throws(() => parseOptions(['direct', '--cross']), { name: 'UsageError', message: /--cross needs --nodes 2/ });
  t.throws(() => parseOptions(['group', '--nodes', '2', '--cross']), { name: 'UsageError', message: /--cross is for the direct scenario/ });
  t.throws(() => parseOptions(['direct', '--nodes', '2', '--url', 'ws://127.0.0.1:1/ws']), { name: 'UsageError', message: /--nodes/ });
  t.throws(() => parseOptions(['direct', '--nodes', '0']), { name: 'UsageError', message: /--nodes/ });
  t.throws(() => parseOptions(['direct', '--nodes', '99']), { name: 'UsageError', message: /--nodes must be at most/ });
  t.throws(() => parseOptions(['direct', 'group']), { name: 'UsageError', message: /one scenario per run/ });
});

t.test('clients are spread over the nodes round-robin', async (t) => {
  const nodes = ['a', 'b'].map((id) => ({ nodeId: id, wsUrl: `ws://${id}`, httpUrl: `http://${id}`, serverPid: null }));
  t.same([0, 1, 2, 3].map((i) => nodeFor({ nodes }, i).nodeId), ['a', 'b', 'a', 'b']);
});

t.test('cross-node pairs: owned by another node, balanced, and checked', async (t) => {
  const placed = choosePairs(12, nodeIds, registry);
  t.equal(placed.length, 12);
  for (const pair of placed) {
    t.equal(pair.conversationId, directConversationId(pair.sender, pair.receiver));
    t.equal(ownerNode(registry, pair.conversationId), nodeIds[pair.ownerNode], 'the ring gives it to the chosen owner');
    t.not(pair.ownerNode, pair.clientNode, 'owned by another node than its clients');
  }
  t.same(placed.map((p) => p.clientNode), [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], 'pairs connect round-robin');
  t.same(new Set(placed.filter((p) => p.clientNode === 0).map((p) => p.ownerNode)), new Set([1, 2]), 'a node\'s pairs are owned by each other node in turn');
  const ids = placed.map((p) => p.conversationId);
  const views: NodeView[] = nodeIds.map((id) => ({ nodeId: id, serving: true, liveNodes: 3, generation: 1, ringSlots: [...registry.ring.slots], source: 'cluster' }));
  t.same(crossProblems(placed, ids, nodeIds, registry, views), [], 'no problem when the nodes agree');
  t.match(crossProblems(placed, ['not-it', ...ids.slice(1)], nodeIds, registry, views)[0], /the node created not-it/);
  const local = { ...(placed[0] as (typeof placed)[0]), clientNode: placed[0]?.ownerNode ?? 0 };
  t.match(crossProblems([local], [local.conversationId], nodeIds, registry, [null])[0], /the node its clients use/);
  const otherRing: NodeView = { nodeId: 'node-a', serving: true, liveNodes: 1, generation: 1, ringSlots: ['node-a#0'], source: 'cluster' };
  const ownedElsewhere = placed.find((p) => p.ownerNode !== 0) ?? placed[0];
  t.ok(ownedElsewhere !== undefined);
  if (ownedElsewhere !== undefined) t.match(crossProblems([ownedElsewhere], [ownedElsewhere.conversationId], nodeIds, registry, [otherRing]).join(), /routes it to node-a/, 'a node routing by another ring is caught');
  t.throws(() => choosePairs(1, ['node-a'], registry), /two nodes or more/);
  t.throws(() => choosePairs(2, ['node-a', 'node-z'], registry, () => '00000000-0000-4000-8000-000000000001'), /no conversation owned by/);
});

t.test('cross evidence: every send forwarded once', async (t) => {
  t.same(crossFigures({ requests: 10, events: 5 }, { requests: 110, events: 105 }, 100, 100), { forwarded_requests: 100, forwarded_share: 1, forwarded_events_per_ack: 1 });
  t.equal(crossFigures(null, { requests: 1, events: 1 }, 1, 1)['forwarded_share'], null);
});

t.test('node views from GET /cluster and from /metrics', async (t) => {
  const report = parseClusterReport({ nodeId: 'n1', serving: true, ring: { generation: 3, slots: ['n1#0', 'n2#0'] }, nodes: [{}, {}] });
  t.same(report, { nodeId: 'n1', serving: true, liveNodes: 2, generation: 3, ringSlots: ['n1#0', 'n2#0'], source: 'cluster' });
  t.equal(parseClusterReport({ nodeId: 'n1', starting: true }), null, 'a node still starting has no view');
  t.equal(parseClusterReport('x'), null);
  const gauges = parseClusterGauges('# HELP whispr_cluster_nodes x\nwhispr_cluster_nodes 2\nwhispr_cluster_ring_generation 4\nwhispr_cluster_serving 1\n');
  t.same(gauges, { nodeId: null, serving: true, liveNodes: 2, generation: 4, ringSlots: null, source: 'metrics' });
  t.equal(parseClusterGauges('whispr_connections 3\n'), null, 'a node without cluster gauges');
});

t.test('one cluster: every node serving, seeing all, routing by the registry\'s ring', async (t) => {
  const nodes = nodeIds.map((id) => ({ nodeId: id, wsUrl: '', httpUrl: `http://${id}`, serverPid: null }));
  const good: NodeView = { nodeId: null, serving: true, liveNodes: 3, generation: 1, ringSlots: null, source: 'metrics' };
  t.equal(clusterProblem(nodes, registry, [good, good, good]), null);
  t.match(clusterProblem(nodes, registry, [good, { ...good, liveNodes: 2 }, good]), /node-b sees 2 live nodes of 3/);
  t.match(clusterProblem(nodes, registry, [good, good, { ...good, serving: false }]), /node-c does not serve/);
  t.match(clusterProblem(nodes, registry, [null, good, good]), /node-a reports no cluster view/);
  t.match(clusterProblem(nodes, registry, [{ ...good, ringSlots: ['node-a#0'] }, good, good]), /node-a routes by the ring/);
  t.match(clusterProblem(nodes.slice(0, 2), registry, [good, good]), /the registry lists/);
});

t.test('across-nodes: arguments and the side-by-side table', async (t) => {
  const args = parseAcrossArgs(['--duration', '15', '--workers', '0', '--rounds', '3', '--nodes=3']);
  t.same(args, { nodes: 3, rounds: 3, out: null, json: false, benchArgs: ['--duration', '15', '--workers', '0'] });
  t.same(parseAcrossArgs(['direct', '--json']).benchArgs, [], '`direct` may be named');
  t.throws(() => parseAcrossArgs(['--cross']), { name: 'UsageError', message: /--cross is not for across-nodes/ });
  t.throws(() => parseAcrossArgs(['--nodes', '1']), { name: 'UsageError', message: /--nodes must be an integer from 2/ });
  t.throws(() => parseAcrossArgs(['--rounds']), { name: 'UsageError', message: /--rounds needs a value/ });
  const summary = (acked: number): Summary => ({ acked_per_s: acked, p50_ack_ms: 1, p99_ack_ms: 2, p50_deliver_ms: 1, p99_deliver_ms: 2, lost: 0, duplicated: 0, errors: 0 }) as unknown as Summary;
  const runs: AcrossRun[] = [
    { round: 1, label: 'one', summary: summary(1000), load: 1 },
    { round: 1, label: 'cross', summary: summary(600), load: 1 },
    { round: 2, label: 'one', summary: summary(800), load: 1 },
    { round: 2, label: 'cross', summary: summary(600), load: 1 },
  ];
  t.same(roundRatios(runs, 'one', 'cross'), [{ round: 1, ratio: 0.6 }, { round: 2, ratio: 0.75 }]);
  t.equal(median([0.6, 0.75]), 0.675);
  t.equal(median([]), null);
  t.equal(acrossTable(runs).split('\n').length, 6, 'a header, a rule and one row per run');
});
