import { bridgeAgUi, connect, runAgUiAgent, type Producer } from '@agentwire/agent';
import { explicitToken, gatewayClientSpecs, localMinter } from '../local-token.js';
import { helpText, parseInteger, parseOptions, UsageError, type OptionSpecs } from '../options.js';

const specs: OptionSpecs = {
  ...gatewayClientSpecs(
    'Producer API key or token with the publish scope (docs/security.md); a worker that runs for long needs an API key or a long-lived token',
  ),
  kind: {
    type: 'string',
    short: 'k',
    env: 'AGENTWIRE_BRIDGE_KIND',
    default: 'agui',
    description: 'Task kind the bridge takes (starts of this kind run on the AG-UI agent)',
  },
  prompt: {
    type: 'string',
    short: 'p',
    description: 'Run one task with this prompt now, and exit when it ends',
  },
  title: { type: 'string', description: "The task's title with --prompt (default: the prompt)" },
  header: {
    type: 'string',
    short: 'H',
    multiple: true,
    description: "A request header for the AG-UI agent, 'Name: value' (repeatable; no commas)",
  },
  capacity: { type: 'string', description: 'Most tasks run at once as a worker (default: no limit)' },
};

export const bridgeHelp = helpText(
  'agentwire bridge agui <agent-url> [options]',
  'Run tasks on an AG-UI agent endpoint (LangGraph, Mastra, a CopilotKit runtime …): every run becomes a durable task\n' +
    'that any watcher can follow, answer and cancel (docs/agui.md). As a worker it takes starts of --kind until\n' +
    'stopped; with --prompt it runs one task and exits.',
  specs,
);

export async function bridge(argv: string[]): Promise<void> {
  const { values, positionals } = parseOptions(argv, specs);
  if (values.help) {
    process.stdout.write(bridgeHelp);
    return;
  }
  const [protocol, agentUrl] = positionals;
  if (protocol !== 'agui')
    throw new UsageError(`Unknown bridge ${JSON.stringify(protocol ?? '')}: only agui.\n\n${bridgeHelp}`);
  if (!agentUrl) throw new UsageError(`Missing the AG-UI agent's URL.\n\n${bridgeHelp}`);
  try {
    new URL(agentUrl);
  } catch {
    throw new UsageError(`Invalid agent URL ${JSON.stringify(agentUrl)}.`);
  }
  const headers = parseHeaders(typeof values.header === 'string' ? values.header : undefined);
  const kind = String(values.kind);
  const token =
    explicitToken(values) ??
    (await localMinter(String(values.data), { sub: 'cli-bridge', scope: ['publish'], streams: ['*'] })?.());
  const producer = connect({
    url: String(values.url),
    ...(token !== undefined && { token }),
    name: `agui-bridge:${new URL(agentUrl).host}`,
  });
  const agent = { url: agentUrl, ...(headers && { headers }) };

  if (typeof values.prompt === 'string') {
    const ok = await runOnce(
      producer,
      kind,
      values.prompt,
      typeof values.title === 'string' ? values.title : undefined,
      agent,
    );
    process.exitCode = ok ? 0 : 1;
    return;
  }
  const capacity =
    typeof values.capacity === 'string' ? parseInteger(values.capacity, 'capacity', 1) : undefined;
  bridgeAgUi(producer, { ...agent, kind, ...(capacity !== undefined && { capacity }) });
  process.stdout.write(
    `Bridging tasks of kind ${JSON.stringify(kind)} to the AG-UI agent at ${agentUrl}.\n` +
      `Start one:  curl -X POST ${String(values.url)}/v1/tasks -H 'content-type: application/json' -d '{"kind":"${kind}","input":{"prompt":"hello"}}'\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await producer.close();
}

/** One task, run now: prints its id (to tail it) and how it ended; true when it completed. */
async function runOnce(
  producer: Producer,
  kind: string,
  prompt: string,
  title: string | undefined,
  agent: { url: string; headers?: Record<string, string> },
): Promise<boolean> {
  try {
    const task = await producer.startTask({
      title: (title ?? prompt).slice(0, 500) || kind,
      kind,
      input: { prompt },
    });
    process.stdout.write(`task ${task.id} (agentwire tail ${task.id})\n`);
    try {
      const result = await runAgUiAgent(task, { prompt }, agent);
      if (!task.ended) await task.complete(result);
      process.stdout.write(`completed${result === undefined ? '' : `: ${JSON.stringify(result)}`}\n`);
      return true;
    } catch (err) {
      if (task.signal.aborted) {
        process.stdout.write('cancelled\n');
        return false;
      }
      if (!task.ended) await task.fail(err);
      process.stdout.write(`failed: ${(err as Error).message}\n`);
      return false;
    }
  } finally {
    await producer.close();
  }
}

function parseHeaders(joined: string | undefined): Record<string, string> | undefined {
  if (joined === undefined) return undefined;
  const headers: Record<string, string> = {};
  // Repeated flags arrive joined with commas (like their env variable), so a value cannot hold one.
  for (const item of joined.split(',')) {
    const at = item.indexOf(':');
    if (at < 1) throw new UsageError(`--header must be 'Name: value', got ${JSON.stringify(item)}.`);
    headers[item.slice(0, at).trim()] = item.slice(at + 1).trim();
  }
  return headers;
}
