// The child process of amqp-ingest.test.ts: a gateway on a SQLite data folder consuming RabbitMQ,
// run until the test kills it. Prints `ready` once it consumes.
// Usage: node ingest-child.js <database path> <amqp url> <exchange> <queue>
import { pathToFileURL } from 'node:url';
import { createGateway } from '../../gateway.js';

async function main(path: string, url: string, exchange: string, queue: string): Promise<void> {
  await createGateway({
    port: 0,
    logLevel: 'silent',
    engine: { kind: 'sqlite', path },
    // The producer channel's names follow the test's fresh ones (see freshNames there).
    amqp: {
      url,
      exchange,
      queue,
      prefetch: 100,
      commandExchange: `${exchange}.commands`,
      producerQueue: `${queue}.producers`,
    },
  });
  process.stdout.write('ready\n');
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(entry).href) {
  const [path, url, exchange, queue] = process.argv.slice(2);
  if (!path || !url || !exchange || !queue) {
    process.stderr.write('usage: ingest-child.js <database path> <amqp url> <exchange> <queue>\n');
    process.exit(2);
  }
  await main(path, url, exchange, queue);
}
