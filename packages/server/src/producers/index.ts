export { ProducerConnection } from './connection.js';
export { connectInProcess } from './in-process.js';
export type { ProducerLink } from './link.js';
export { defaultProducerOptions, type ProducerOptions } from './options.js';
export { ProducerRegistry, PRODUCER_CLOSE_REPLACED, PRODUCER_CLOSE_SILENT } from './registry.js';
export { ProducerRouter } from './router.js';
export { ProducerEndpoint } from './ws-endpoint.js';
