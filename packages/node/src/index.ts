export * from './config.ts';
export * from './node.ts';
export * from './services.ts';
export * from './internal-calls.ts';
