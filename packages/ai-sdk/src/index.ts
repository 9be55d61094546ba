export { wire, type AgentLike, type Wired, type WiredAgent } from './wire.js';
export type { Target, WireOptions } from './target.js';
export type { Usage } from './usage.js';
