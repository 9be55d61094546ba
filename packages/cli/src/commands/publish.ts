import { createInterface } from 'node:readline';
import { connect } from '@agentwire/agent';
import { assertStreamName, parseJson, type AnyEventInput } from '@agentwire/protocol';
import { explicitToken, gatewayClientSpecs, localMinter } from '../local-token.js';
import { helpText, parseOptions, UsageError, type OptionSpecs } from '../options.js';

const specs: OptionSpecs = {
  ...gatewayClientSpecs('Producer API key or token with the publish scope (docs/security.md)'),
  id: { type: 'string', description: 'Event id (idempotency key); generated when absent' },
  stdin: {
    type: 'boolean',
    description: 'Read events as JSON lines ({"type","data","id"?}) from standard input',
  },
};

export const publishHelp = helpText(
  'agentwire publish <stream> <type> [data-json] [options]\n       agentwire publish <stream> --stdin < events.jsonl',
  'Publish events to a stream over HTTP; prints the seq the gateway stored each one at.',
  specs,
);

async function* stdinEvents(): AsyncGenerator<AnyEventInput> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    const value = parseJson(line);
    if (typeof value !== 'object' || value === null)
      throw new UsageError(`line ${n}: expected a JSON object`);
    yield value as AnyEventInput;
  }
}

export async function publish(argv: string[]): Promise<void> {
  const { values, positionals } = parseOptions(argv, specs);
  if (values.help) {
    process.stdout.write(publishHelp);
    return;
  }
  const [stream, type, dataText] = positionals;
  if (!stream) throw new UsageError('Missing <stream>.\n\n' + publishHelp);
  assertStreamName(stream);
  const token =
    explicitToken(values) ??
    (await localMinter(String(values.data), { sub: 'cli-publish', scope: ['publish'], streams: ['*'] })?.());
  const producer = connect({
    url: String(values.url),
    ...(token !== undefined && { token }),
    commands: false,
  });
  try {
    const events: AnyEventInput[] = [];
    if (values.stdin) {
      for await (const event of stdinEvents()) events.push(event);
    } else {
      if (!type) throw new UsageError('Missing <type>.\n\n' + publishHelp);
      const data = dataText === undefined ? {} : parseJson(dataText);
      events.push({ type, data, ...(typeof values.id === 'string' && { id: values.id }) } as AnyEventInput);
    }
    if (events.length === 0) throw new UsageError('No events to publish.');
    const results = await producer.publish(stream, events);
    for (const r of results)
      process.stdout.write(`${stream} seq=${r.seq} id=${r.id}${r.duplicate ? ' (duplicate)' : ''}\n`);
  } finally {
    await producer.close();
  }
}
