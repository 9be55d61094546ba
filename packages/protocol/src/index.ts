export * from './catalog.js';
export * from './commands.js';
export * from './envelope.js';
export * from './errors.js';
export type { ErrorInfo } from './events/common.js';
export * from './reducer.js';
export * from './streams.js';
export * from './validate.js';
export * from './wire.js';
