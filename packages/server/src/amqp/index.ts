export { AmqpIngest, type AmqpIngestStats, type IngestPublish } from './consumer.js';
export { decodeDelivery, type AmqpDelivery, type DecodedEvent } from './decode.js';
export {
  DEAD_LETTER_HEADERS,
  DEFAULT_AMQP_EXCHANGE,
  DEFAULT_AMQP_QUEUE,
  DEFAULT_COMMAND_EXCHANGE,
  DEFAULT_PRODUCER_QUEUE,
  resolveAmqpOptions,
  type AmqpIngestOptions,
} from './options.js';
export { seed002Rules, type SeedRule } from '../surfaces/progress/progress-amqp.js';
export { AMQP_PRODUCER_HEADER, AmqpProducerEndpoint, commandRoutingKey } from './producer-endpoint.js';
