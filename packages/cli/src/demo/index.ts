export { startDemoWorkload } from './workload.js';
export type { DemoOptions, DemoWorkload } from './workload.js';
