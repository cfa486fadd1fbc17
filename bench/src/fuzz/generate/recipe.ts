/**
 * A generated frame before it meets a connection: the tree (with placeholders
 * for the request id and the connection's conversations), how it travels, what
 * the node must answer, and anything done to its bytes after encoding. The same
 * seed and index give the same recipe on any run; the bytes differ only by the
 * ids the placeholders stand for.
 */
import type { FrameNode } from '../frame/frame-node.ts';
import type { Expectation } from '../oracle/expectation.ts';
import type { ReplyIdExpectation } from '../oracle/reply-id.ts';

/** Whether the node will find an object in the frame (the 1008 rule counts frames that are not). */
export type Decodes = 'object' | 'not-object' | 'unknown';

export type ByteEdit =
  /** Keep only the first `keep` fraction of the encoded bytes (at least one byte, at least one cut). */
  | { kind: 'truncate'; keep: number }
  /** Send these bytes instead of the tree's encoding. */
  | { kind: 'replace'; bytes: Uint8Array }
  /** Encode another value right after the tree's (two values in one frame). */
  | { kind: 'append'; value: FrameNode };

export interface FrameRecipe {
  /** MessagePack in a binary frame, or JSON in a text frame. */
  binary: boolean;
  body: FrameNode;
  edit?: ByteEdit;
  /** What was generated and done to it, most general first: `msg.send`, `own`, `duplicate-key:op`. */
  labels: string[];
  expect: Expectation;
  reply: ReplyIdExpectation;
  decodes: Decodes;
  /**
   * A deliberate run of 20 undecodable frames after the connection went quiet:
   * the node must answer each and then close with 1008.
   */
  streak?: true;
  /**
   * 20 undecodable frames pipelined, each after a valid request a shard answers:
   * no two consecutive, so the node must not close with 1008.
   */
  interleaved?: true;
}

/** A recipe's request-level part, before a mutation or an encoding is chosen. */
export interface RequestRecipe {
  op: string;
  body: FrameNode;
  labels: string[];
  expect: Expectation;
  reply: ReplyIdExpectation;
}
