export * from './retention/index.ts';
