/**
 * The node's configuration, read once from the environment at start-up
 * (PROTOCOL.md §1 is the contract for the variables it names). Every bad value
 * stops the node with a ConfigError that names the variable and what it expected,
 * before anything is started.
 *
 * With no key configured, a node bound to a loopback address uses this install's
 * own random secret, made on its first start in the data folder (DESIGN.md
 * "Embedded default and real services"); this is the one thing loading the
 * configuration may write.
 */
import { statSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { availableParallelism, hostname } from 'node:os';
import { DEFAULT_LIMITS, type Limits, type Rate } from '@whispr/protocol';
import { MIN_TOKEN_LENGTH, type GrpcServerConfig } from '@whispr/grpc';
import { DEFAULT_DATA_DIR, ensureInstallSecret, type InstallSecret } from '@whispr/client/install-secret';

export { DEFAULT_DATA_DIR };

/** The secret WHISPR_DEV=1 verifies tokens with; tokens minted by `mintDevToken` use it too. */
export const DEV_JWT_SECRET = 'dev-secret';

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_REDIS_PREFIX = 'whispr:';
export const DEFAULT_SOCKET_BACKLOG_BYTES = 1024 * 1024;
export const MIN_SOCKET_BACKLOG_BYTES = 64 * 1024;
export const DEFAULT_SHARD_WRITERS = 2;
/** Grace before a silent node is dropped from the ring (PROTOCOL.md §1: 3000 or less). */
export const DEFAULT_NODE_GRACE_MS = 3000;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface JwtConfig {
  /** HS256 secret (WHISPR_JWT_SECRET, 'dev-secret' under WHISPR_DEV=1, or this install's own). */
  secret?: string;
  /** Path to a PEM (SPKI) public key or a JWKS file, for RS256/ES256 (WHISPR_JWT_PUBLIC_KEY). */
  publicKeyFile?: string;
  /** True when the key is the well-known dev secret: the node logs a warning saying so. */
  devSecret: boolean;
  /** Set when `secret` is this install's own (no key configured, loopback address): its file, and whether this start made it. */
  installSecret?: { path: string; created: boolean };
}

export interface LoadConfigOptions {
  /** Data folder that holds this install's secret; default <repo>/.data. */
  dataDir?: string;
}

export interface NodeConfig {
  /** HTTP + WebSocket port (PORT). 0 asks the OS for a free port. */
  port: number;
  /** Bind address (HOST). */
  host: string;
  /** PostgreSQL URL (DATABASE_URL); undefined: resolveServices finds or starts one. */
  databaseUrl: string | undefined;
  /** Redis URL (REDIS_URL); undefined: resolveServices uses redis://127.0.0.1:6379 or starts one there. */
  redisUrl: string | undefined;
  /** Prefix of every Redis key this node writes (WHISPR_REDIS_PREFIX), so nodes of one cluster share it and tests can isolate. */
  redisPrefix: string;
  jwt: JwtConfig;
  /** WHISPR_DEV=1. */
  dev: boolean;
  /** Worker threads hosting conversation shards (WHISPR_WORKERS); 0 runs one shard in the main thread. */
  workers: number;
  /** Batch writers per shard (WHISPR_SHARD_WRITERS): PostgreSQL connections committing at once, each for its share of the shard's conversations. */
  shardWriters: number;
  /** This node's id in the ring and the registry (WHISPR_NODE_ID). */
  nodeId: string;
  /** Grace before a silent node is dropped from the ring (WHISPR_NODE_GRACE_MS). */
  nodeGraceMs: number;
  /** pino level (LOG_LEVEL). */
  logLevel: LogLevel;
  /** Limits announced in hello and enforced (WHISPR_MAX_FRAME_BYTES, ...). */
  limits: Limits;
  /** Unsent bytes a socket may hold before it is closed with 4008 (WHISPR_SOCKET_BACKLOG_BYTES). */
  socketBacklogBytes: number;
  /** The internal gRPC API (WHISPR_GRPC_*); absent: not served (WHISPR_GRPC_PORT unset). */
  grpc?: GrpcServerConfig;
}

/** A setting that cannot be used; `variable` names the environment variable. */
export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, message: string, options?: ErrorOptions) {
    super(`${variable}: ${message}`, options);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** The env var's value, or undefined when unset or blank (an empty `FOO=` means "not set", as shells often produce it). */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  // Digits only: Number('1e3'), Number('0x10') and parseInt('12abc') would all accept a typo.
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = read(env, name);
  if (raw === undefined || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(name, `expected 1 or 0, got ${JSON.stringify(raw)}`);
}

function url(env: NodeJS.ProcessEnv, name: string, protocols: readonly string[]): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch (err) {
    throw new ConfigError(name, `expected a URL like ${protocols[0]}//host:port/..., got ${JSON.stringify(raw)}`, { cause: err });
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL, got one with ${parsed.protocol}`);
  }
  return raw;
}

/** Fails now rather than at the first connection when the key file cannot be read. */
function checkFile(name: string, path: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError(name, `expected a readable PEM or JWKS file, got ${JSON.stringify(path)} (${reason})`, {
      cause: err,
    });
  }
  if (!isFile) throw new ConfigError(name, `expected a PEM or JWKS file, got ${JSON.stringify(path)}, which is not a file`);
}

const MAX_PORT = 65535;
const MiB = 1024 * 1024;

/** Loopback only: a node nothing else can reach may make its own key, since only this machine's users can get tokens to it. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare === 'localhost' || bare === '::1' || (isIPv4(bare) && bare.startsWith('127.'));
}

const KEY_VARIABLES = 'set WHISPR_JWT_SECRET (HS256) or WHISPR_JWT_PUBLIC_KEY (a PEM or JWKS file)';

export function loadConfig(env: NodeJS.ProcessEnv, options: LoadConfigOptions = {}): NodeConfig {
  const port = integer(env, 'PORT', DEFAULT_PORT, 0, MAX_PORT);
  const host = read(env, 'HOST') ?? DEFAULT_HOST;

  const dev = flag(env, 'WHISPR_DEV');
  const secret = read(env, 'WHISPR_JWT_SECRET');
  const publicKeyFile = read(env, 'WHISPR_JWT_PUBLIC_KEY');
  if (secret !== undefined && publicKeyFile !== undefined) {
    // One key type per node: accepting both would let a token signed with the
    // shared secret pass where the operator meant to require the asymmetric key.
    throw new ConfigError('WHISPR_JWT_SECRET', 'set either WHISPR_JWT_SECRET or WHISPR_JWT_PUBLIC_KEY, not both');
  }
  let jwt: JwtConfig;
  if (secret !== undefined) jwt = { secret, devSecret: false };
  else if (publicKeyFile !== undefined) {
    checkFile('WHISPR_JWT_PUBLIC_KEY', publicKeyFile);
    jwt = { publicKeyFile, devSecret: false };
  }
  else if (dev) jwt = { secret: DEV_JWT_SECRET, devSecret: true };
  else if (isLoopbackHost(host)) {
    const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
    let install: InstallSecret;
    try {
      install = ensureInstallSecret(dataDir);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new ConfigError('WHISPR_JWT_SECRET', `no key configured, and this install's own secret is not usable (${reason}); ${KEY_VARIABLES}`, {
        cause: err,
      });
    }
    jwt = { secret: install.secret, devSecret: false, installSecret: { path: install.path, created: install.created } };
  } else {
    throw new ConfigError(
      'WHISPR_JWT_SECRET',
      `no key to verify tokens with: ${KEY_VARIABLES}. A node makes a secret of its own only when bound to a loopback address, ` +
        `and HOST is ${JSON.stringify(host)} (WHISPR_DEV=1 uses the well-known secret 'dev-secret', for development only)`,
    );
  }

  // 0: one shard in the main thread (InlineShard), for small hosts that PostgreSQL shares.
  const workers = integer(env, 'WHISPR_WORKERS', availableParallelism(), 0, 256);
  const shardWriters = integer(env, 'WHISPR_SHARD_WRITERS', DEFAULT_SHARD_WRITERS, 1, 64);
  const nodeId = read(env, 'WHISPR_NODE_ID') ?? `${hostname()}:${port}`;
  if (/\s/.test(nodeId)) throw new ConfigError('WHISPR_NODE_ID', `expected an id without whitespace, got ${JSON.stringify(nodeId)}`);
  // At least 300 ms (heartbeats go out every quarter of it); PROTOCOL.md §1: 3000 or less by default.
  const nodeGraceMs = integer(env, 'WHISPR_NODE_GRACE_MS', DEFAULT_NODE_GRACE_MS, 300, 600_000);

  const logLevelRaw = read(env, 'LOG_LEVEL') ?? 'info';
  const logLevel = LOG_LEVELS.find((level) => level === logLevelRaw);
  if (logLevel === undefined) {
    throw new ConfigError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevelRaw)}`);
  }

  // WHISPR_REDIS_PREFIX may be set to the empty string on purpose (no prefix), so it is read raw.
  const redisPrefix = env.WHISPR_REDIS_PREFIX ?? DEFAULT_REDIS_PREFIX;
  if (/\s/.test(redisPrefix)) {
    throw new ConfigError('WHISPR_REDIS_PREFIX', `expected a key prefix without whitespace, got ${JSON.stringify(redisPrefix)}`);
  }

  const limits: Limits = {
    max_frame_bytes: integer(env, 'WHISPR_MAX_FRAME_BYTES', DEFAULT_LIMITS.max_frame_bytes, 1024, 64 * MiB),
    max_content_bytes: integer(env, 'WHISPR_MAX_CONTENT_BYTES', DEFAULT_LIMITS.max_content_bytes, 1, 64 * MiB),
    max_metadata_bytes: integer(env, 'WHISPR_MAX_METADATA_BYTES', DEFAULT_LIMITS.max_metadata_bytes, 1, 64 * MiB),
    history_max: integer(env, 'WHISPR_HISTORY_MAX', DEFAULT_LIMITS.history_max, 1, 10_000),
    send_rate_per_s: integer(env, 'WHISPR_SEND_RATE_PER_S', DEFAULT_LIMITS.send_rate_per_s, 1, 1_000_000),
    send_burst: integer(env, 'WHISPR_SEND_BURST', DEFAULT_LIMITS.send_burst, 1, 1_000_000),
    op_rates: scaledOpRates(integer(env, 'WHISPR_OP_RATE_SCALE', 1, 1, 1_000_000)),
  };
  // A message's content and metadata travel inside one frame: limits that could
  // never be reached would announce a promise the server cannot keep.
  if (limits.max_content_bytes > limits.max_frame_bytes) {
    throw new ConfigError(
      'WHISPR_MAX_CONTENT_BYTES',
      `expected at most WHISPR_MAX_FRAME_BYTES (${limits.max_frame_bytes}), got ${limits.max_content_bytes}`,
    );
  }
  if (limits.max_metadata_bytes > limits.max_frame_bytes) {
    throw new ConfigError(
      'WHISPR_MAX_METADATA_BYTES',
      `expected at most WHISPR_MAX_FRAME_BYTES (${limits.max_frame_bytes}), got ${limits.max_metadata_bytes}`,
    );
  }
  if (limits.send_burst < limits.send_rate_per_s) {
    // The token bucket refills send_rate_per_s per second into a bucket of send_burst:
    // a smaller bucket would silently cap the rate below the announced one.
    throw new ConfigError(
      'WHISPR_SEND_BURST',
      `expected at least WHISPR_SEND_RATE_PER_S (${limits.send_rate_per_s}), got ${limits.send_burst}`,
    );
  }

  const socketBacklogBytes = integer(
    env,
    'WHISPR_SOCKET_BACKLOG_BYTES',
    Math.max(DEFAULT_SOCKET_BACKLOG_BYTES, limits.max_frame_bytes),
    // At least one whole frame must fit, or every large event would close the socket;
    // below 64 KiB ordinary bursts of small events would close healthy readers.
    Math.max(MIN_SOCKET_BACKLOG_BYTES, limits.max_frame_bytes),
    1024 * MiB,
  );

  return {
    port,
    host,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix,
    jwt,
    dev,
    workers,
    shardWriters,
    nodeId,
    nodeGraceMs,
    logLevel,
    limits,
    socketBacklogBytes,
    ...grpcConfig(env, host),
  };
}

/** The default rate of every op class but sends, times `scale` (benchmarks and trusted clients raise them together). */
function scaledOpRates(scale: number): Limits['op_rates'] {
  const scaled = (r: Rate): Rate => ({ per_s: r.per_s * scale, burst: r.burst * scale });
  const d = DEFAULT_LIMITS.op_rates;
  return { write: scaled(d.write), read: scaled(d.read), typing: scaled(d.typing), receipt: scaled(d.receipt) };
}

/**
 * The internal gRPC API: off unless WHISPR_GRPC_PORT is set. It always needs
 * WHISPR_GRPC_TOKEN (at least MIN_TOKEN_LENGTH characters): unlike the JWT key, no
 * install-made default, since the callers are other services that must be
 * given it. TLS is all three files or none.
 */
function grpcConfig(env: NodeJS.ProcessEnv, nodeHost: string): { grpc?: GrpcServerConfig } {
  if (read(env, 'WHISPR_GRPC_PORT') === undefined) return {};
  const port = integer(env, 'WHISPR_GRPC_PORT', 0, 0, MAX_PORT);
  const host = read(env, 'WHISPR_GRPC_HOST') ?? nodeHost;
  const token = read(env, 'WHISPR_GRPC_TOKEN');
  if (token === undefined) {
    throw new ConfigError('WHISPR_GRPC_TOKEN', `WHISPR_GRPC_PORT is set, so the gRPC API needs the shared token its callers send (${isLoopbackHost(host) ? 'even on a loopback address' : `it would listen on ${JSON.stringify(host)}`})`);
  }
  if (token.length < MIN_TOKEN_LENGTH) throw new ConfigError('WHISPR_GRPC_TOKEN', `expected at least ${MIN_TOKEN_LENGTH} characters, got ${token.length}`);
  const files = { certFile: read(env, 'WHISPR_GRPC_TLS_CERT'), keyFile: read(env, 'WHISPR_GRPC_TLS_KEY'), caFile: read(env, 'WHISPR_GRPC_TLS_CA') };
  const { certFile, keyFile, caFile } = files;
  if (certFile === undefined && keyFile === undefined && caFile === undefined) return { grpc: { host, port, token } };
  if (certFile === undefined || keyFile === undefined || caFile === undefined) {
    const missing = certFile === undefined ? 'WHISPR_GRPC_TLS_CERT' : keyFile === undefined ? 'WHISPR_GRPC_TLS_KEY' : 'WHISPR_GRPC_TLS_CA';
    throw new ConfigError(missing, 'mutual TLS needs WHISPR_GRPC_TLS_CERT, WHISPR_GRPC_TLS_KEY and WHISPR_GRPC_TLS_CA together');
  }
  checkFile('WHISPR_GRPC_TLS_CERT', certFile);
  checkFile('WHISPR_GRPC_TLS_KEY', keyFile);
  checkFile('WHISPR_GRPC_TLS_CA', caFile);
  return { grpc: { host, port, token, tls: { certFile, keyFile, caFile } } };
}
