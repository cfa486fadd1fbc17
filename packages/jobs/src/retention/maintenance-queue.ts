/**
 * The maintenance queue: retention, archival and usage_metrics runs, one
 * BullMQ job per period whose id is the period (`retention-2026-12-01`,
 * `usage-2026-12-01T14`), so every node may schedule it on every tick and
 * there is still one job per period. Its keys live under the cluster's Redis
 * prefix + `bull` (BullMQ's own prefix option), as the jobs package's other
 * queues do.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Op, RequestOf, ResultMap } from '@whispr/protocol';

export const MAINTENANCE_QUEUE = 'maintenance';

export type MaintenanceKind = 'retention' | 'archival' | 'usage';
export const MAINTENANCE_KINDS: readonly MaintenanceKind[] = ['retention', 'archival', 'usage'];

/** The ops the maintenance jobs run through each conversation's owner. */
export type MaintenanceOp = Extract<Op, 'retention.expire' | 'conv.archive'>;

/**
 * How a job reaches a conversation's owner: node.internal (node/internal-calls.ts),
 * as the service principal. Only what the jobs use of it.
 */
export interface OwnerCalls {
  call<O extends MaintenanceOp>(principal: { kind: 'service' }, request: Omit<RequestOf<O>, 'id'> & { op: O }): Promise<ResultMap[O]>;
}

const pad = (n: number): string => String(n).padStart(2, '0');
const day = (d: Date): string => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

/** The job id of a kind's run for the period holding `at` (UTC days; hours for usage snapshots). BullMQ ids may not hold ':'. */
export function periodJobId(kind: MaintenanceKind, at: number): string {
  const d = new Date(at);
  return kind === 'usage' ? `${kind}-${day(d)}T${pad(d.getUTCHours())}` : `${kind}-${day(d)}`;
}

/** How long a finished run's job is kept: longer than its period, so adding its id again in the same period adds nothing. */
export function keepFinishedSeconds(kind: MaintenanceKind): number {
  return kind === 'usage' ? 2 * 24 * 3600 : 8 * 24 * 3600;
}

export const bullPrefixOf = (redisPrefix: string): string => `${redisPrefix}bull`;

/** A Redis connection for BullMQ: workers need maxRetriesPerRequest null (blocking commands). */
export function maintenanceConnection(redisUrl: string, logger: Logger, name: string, blocking: boolean): Redis {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: blocking ? null : 2, connectionName: `whispr ${name}` });
  redis.on('error', (err) => logger.warn({ err, connection: name }, 'maintenance redis connection error'));
  return redis;
}
