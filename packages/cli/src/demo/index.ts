export { startDemoWorkload } from './workload.js';
export type { DemoOptions, DemoWorkload } from './workload.js';
export { DEFAULT_DEMO_CAPACITY, DEMO_KINDS, startDemoWorker } from './demo-worker.js';
export type { DemoWorker, DemoWorkerOptions } from './demo-worker.js';
