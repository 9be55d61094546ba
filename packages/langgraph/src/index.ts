export { runGraph } from './run-graph.js';
export type { GraphLike, RunGraphOptions } from './run-graph.js';
export type { NodeMapping, NodeRole } from './graph-nodes.js';
export { defaultQuestion } from './interrupt-question.js';
export type { GraphInterruptInfo, InterruptQuestion } from './interrupt-question.js';
export { nodeNames } from './node-names.js';
export { toJsonSafe } from './json-safe.js';
