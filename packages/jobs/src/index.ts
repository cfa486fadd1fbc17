export * from './queues.ts';
export * from './scheduled-job.ts';
export * from './scheduled-processor.ts';
export * from './notification-job.ts';
export * from './notification-producer.ts';
export * from './queue-metrics.ts';
export * from './producers.ts';
export * from './jobs.ts';
