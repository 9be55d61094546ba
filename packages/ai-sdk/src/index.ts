export { wire, type Wired } from './wire.js';
export type { Target, WireOptions } from './target.js';
export type { Usage } from './usage.js';
