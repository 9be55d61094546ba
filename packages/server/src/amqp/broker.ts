import { AgentwireError } from '@agentwire/protocol';
import { connect, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { messageOf, redactUrl } from '../error-text.js';

/**
 * Connects to RabbitMQ with recovery: `setup` runs on every (re)connection to declare the topology
 * idempotently. A wrong URL fails the gateway's start; once connected, it never gives up.
 */
export async function connectBroker(
  url: string,
  setup: (model: ChannelModel) => Promise<void>,
): Promise<RecoveringChannelModel> {
  try {
    return await connect(url, {
      recovery: { initialMaxRetries: 2, maxRetries: Infinity, initialDelay: 200, maxDelay: 5000, setup },
    });
  } catch (err) {
    throw new AgentwireError(
      'unavailable',
      `Cannot connect to RabbitMQ at ${redactUrl(url)}: ${messageOf(err)}`,
    );
  }
}
