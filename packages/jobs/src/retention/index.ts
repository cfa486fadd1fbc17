export * from './maintenance-queue.ts';
export * from './maintenance-jobs.ts';
export * from './retention-run.ts';
export * from './archival-run.ts';
export * from './owner-retry.ts';
