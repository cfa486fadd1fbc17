// A scheduled-message processor in a process of its own whose sends never
// finish: it takes a job, says so on stdout, and holds it until it is killed.
import { pino } from 'pino';
import { createPgPool } from '@whispr/store';
import { ScheduledProcessor } from '../../src/scheduled-processor.ts';

const { DATABASE_URL, REDIS_URL, WHISPR_REDIS_PREFIX } = process.env;
if (!DATABASE_URL || !REDIS_URL || !WHISPR_REDIS_PREFIX) throw new Error('DATABASE_URL, REDIS_URL and WHISPR_REDIS_PREFIX are required');
const logger = pino({ level: 'warn' });
const processor = new ScheduledProcessor({
  redisUrl: REDIS_URL,
  redisPrefix: WHISPR_REDIS_PREFIX,
  logger,
  pg: createPgPool({ connectionString: DATABASE_URL, max: 2, applicationName: 'hanging processor', logger }),
  send: (row) => {
    process.stdout.write(`taken ${row.id}\n`);
    return new Promise(() => undefined);
  },
});
processor.start();
process.stdout.write('ready\n');
