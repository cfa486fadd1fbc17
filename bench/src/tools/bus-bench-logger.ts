/**
 * A pino logger for the bench's bus peers. The bench package does not depend on
 * pino or @whispr/cluster (its package.json belongs to other work in flight), so
 * pino is loaded from where the cluster package resolves it, and its type is the
 * one the bus asks for. Once bench lists @whispr/cluster and pino, import them.
 */
import { createRequire } from 'node:module';
import type { RedisBusOptions } from '../../../cluster/src/bus-options.ts';

export type BusLogger = RedisBusOptions['logger'];

const requireFromCluster = createRequire(new URL('../../../cluster/package.json', import.meta.url));
const { pino } = requireFromCluster('pino') as { pino: (options: { level: string }) => BusLogger };

export const benchLogger = (): BusLogger => pino({ level: 'warn' });
