export * from './auth.ts';
export * from './gateway.ts';
export * from './routing.ts';
export * from './native.ts';
export type { InternalAnswer } from './request-table.ts';
