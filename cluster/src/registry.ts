/**
 * The node registry (the seed's node_status, §8.2): which nodes are alive and
 * which worker slots each one hosts. The ring is computed from it.
 */
export interface NodeInfo {
  nodeId: string;
  /** This run of the node: random per process start, so a restarted node is told from its former self. */
  incarnation: string;
  host: string;
  port: number;
  slots: string[];
  lastHeartbeat: number;
}

export interface NodeRegistry {
  /** Announces this node and starts its heartbeat. */
  register(node: Omit<NodeInfo, 'lastHeartbeat'>): Promise<void>;
  /** Nodes whose heartbeat has not lapsed. */
  liveNodes(): Promise<NodeInfo[]>;
  /** Stops the heartbeat and removes this node. */
  deregister(): Promise<void>;
}
