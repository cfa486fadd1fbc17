/**
 * Options of the Redis bus, checked at construction (piscina style: the error
 * names the option and what it must be), so a bad configuration fails at start-up
 * and never as a surprise on the hot path.
 */
import type { Logger } from 'pino';
import { isValidNodeId } from './bus-envelope.ts';

export interface RedisBusOptions {
  /** This node's id: the inbox it listens on and the sender named in its envelopes. */
  nodeId: string;
  /** The cluster's Redis key prefix (WHISPR_REDIS_PREFIX, e.g. `whispr:`): nodes on one prefix form one cluster. */
  prefix: string;
  /** The Redis the bus opens its own two connections to (one publishes, one is subscribed). */
  redisUrl: string;
  logger: Logger;
  /** The longest payload `send` accepts, and receivers accept. Default 4 MiB. */
  maxPayloadBytes?: number;
  /** Payload bytes handed to Redis and not yet acknowledged, past which `send` refuses. Default 16 MiB. */
  maxUnackedBytes?: number;
  /** Payloads handed to Redis and not yet acknowledged, past which `send` refuses. Default 4,096. */
  maxUnackedMessages?: number;
  /** How long `start` waits for Redis before it fails. Default 10 s. */
  startTimeoutMs?: number;
}

export type ResolvedRedisBusOptions = Required<RedisBusOptions>;

const MiB = 1024 * 1024;
export const BUS_DEFAULTS = {
  maxPayloadBytes: 4 * MiB,
  maxUnackedBytes: 16 * MiB,
  maxUnackedMessages: 4096,
  startTimeoutMs: 10_000,
} as const;

/** The same rule as the store's RedisKeys, so every key and channel of the cluster shares one prefix. */
const PREFIX_CHARS = /^[A-Za-z0-9:_.-]*$/;

export function resolveRedisBusOptions(owner: string, options: RedisBusOptions): ResolvedRedisBusOptions {
  const fail = (option: string, must: string, got: unknown): never => {
    throw new TypeError(`${owner}: options.${option} must be ${must}, got ${describe(got)}`);
  };
  if (typeof options !== 'object' || options === null) throw new TypeError(`${owner}: options must be an object`);
  if (!isValidNodeId(options.nodeId)) fail('nodeId', 'a string of 1–255 UTF-8 bytes without whitespace or control characters', options.nodeId);
  if (typeof options.prefix !== 'string' || !PREFIX_CHARS.test(options.prefix)) fail('prefix', 'a string of letters, digits and : _ . -', options.prefix);
  // Not echoed: a URL that does not parse may still hold a password.
  if (!isRedisUrl(options.redisUrl)) throw new TypeError(`${owner}: options.redisUrl must be a redis:// or rediss:// URL`);
  if (typeof options.logger?.child !== 'function') fail('logger', 'a pino Logger', options.logger);
  const resolved: ResolvedRedisBusOptions = {
    ...options,
    maxPayloadBytes: positiveInteger('maxPayloadBytes', options.maxPayloadBytes ?? BUS_DEFAULTS.maxPayloadBytes, fail),
    maxUnackedBytes: positiveInteger('maxUnackedBytes', options.maxUnackedBytes ?? BUS_DEFAULTS.maxUnackedBytes, fail),
    maxUnackedMessages: positiveInteger('maxUnackedMessages', options.maxUnackedMessages ?? BUS_DEFAULTS.maxUnackedMessages, fail),
    startTimeoutMs: positiveInteger('startTimeoutMs', options.startTimeoutMs ?? BUS_DEFAULTS.startTimeoutMs, fail),
  };
  // A payload of the largest size must fit an idle link, or it could never be sent.
  if (resolved.maxUnackedBytes < resolved.maxPayloadBytes) {
    fail('maxUnackedBytes', `at least options.maxPayloadBytes (${resolved.maxPayloadBytes})`, resolved.maxUnackedBytes);
  }
  return resolved;
}

function positiveInteger(option: string, value: unknown, fail: (option: string, must: string, got: unknown) => never): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) fail(option, 'a positive integer', value);
  return value as number;
}

function isRedisUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'redis:' || protocol === 'rediss:';
  } catch {
    return false;
  }
}

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}
