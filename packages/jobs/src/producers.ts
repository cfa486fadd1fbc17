/** The producers a shard worker uses (one set per worker thread, each on its own connections). */
import { NotificationProducer } from './notification-producer.ts';
import type { JobsRedis } from './queues.ts';
import { ScheduledProducer } from './scheduled-job.ts';

export interface JobProducers {
  readonly scheduled: ScheduledProducer;
  readonly notifications: NotificationProducer;
  close(): Promise<void>;
}

export function createJobProducers(o: JobsRedis): JobProducers {
  const scheduled = new ScheduledProducer(o);
  const notifications = new NotificationProducer(o);
  return {
    scheduled,
    notifications,
    close: async () => {
      await Promise.all([scheduled.close(), notifications.close()]);
    },
  };
}
