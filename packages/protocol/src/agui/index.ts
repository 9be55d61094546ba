export * from './events.js';
export * from './run-input.js';
