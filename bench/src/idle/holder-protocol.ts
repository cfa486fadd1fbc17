/**
 * Messages between the idle scenario and its connection holders. Holders are
 * child processes because one process may hold only RLIMIT_NOFILE sockets (20,000
 * here, and it cannot be raised): several holders together pass that limit.
 */
export interface HolderStart {
  kind: 'start';
  /** The nodes' WebSocket URLs: connection i (by its global index) goes to urls[i mod urls.length]. */
  urls: string[];
  jwtSecret: string;
  count: number;
  /** Index of this holder's first connection (spreads source addresses and nodes evenly). */
  firstIndex: number;
  sourceAddresses: string[];
  concurrency: number;
}

export interface HolderCheck {
  kind: 'check';
}

export interface HolderClose {
  kind: 'close';
}

export type ToHolder = HolderStart | HolderCheck | HolderClose;

export interface HolderProgress {
  kind: 'progress';
  /** Open connections per node (the order of HolderStart.urls). */
  connectedByNode: number[];
  failed: number;
}

export interface HolderConnected {
  kind: 'connected';
  connectedByNode: number[];
  failed: number;
  /** Milliseconds from opening the TCP connection to the server's hello, one per connection. */
  connectMs: number[];
  firstError: string | null;
}

export interface HolderChecked {
  kind: 'checked';
  /** Connections that answered a ping. */
  alive: number;
  /** Connections the server closed while they were idle. */
  dropped: number;
}

export interface HolderClosed {
  kind: 'closed';
}

export type FromHolder = HolderProgress | HolderConnected | HolderChecked | HolderClosed;
