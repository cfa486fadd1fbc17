export * from './errors.ts';
export * from './limits.ts';
export * from './objects.ts';
export * from './requests.ts';
export * from './codec.ts';
export * from './frame-head.ts';
export * from './frames.ts';
