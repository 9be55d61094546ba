import { createClient } from '@agentwire/client';
import {
  AgentwireError,
  isStreamName,
  isTerminal,
  taskStream,
  type ErrorAnswer,
  type TaskListPage,
  type TaskState,
} from '@agentwire/protocol';
import pc from 'picocolors';
import { EventFormatter, statusLine } from '../format.js';
import { TailView } from '../tail-view.js';
import { explicitToken, gatewayClientSpecs, localMinter } from '../local-token.js';
import { helpText, parseOptions, UsageError, type OptionSpecs } from '../options.js';

const specs: OptionSpecs = {
  ...gatewayClientSpecs('Access token for a gateway with auth (docs/security.md)'),
  'from-start': { type: 'boolean', description: 'Replay the retained history before following' },
  json: { type: 'boolean', description: 'Print raw events as JSON lines' },
  exit: { type: 'boolean', description: 'Exit when the task completes, fails or is cancelled' },
};

export const tailHelp = helpText(
  'agentwire tail [stream | task id] [options]',
  'Watch a stream live: agents, tools, logs and progress. Without a stream, follows the newest task.',
  specs,
);

async function newestTask(url: string, token: string | undefined): Promise<string> {
  for (const query of ['?status=running&limit=1', '?limit=1']) {
    const res = await fetch(`${url}/v1/tasks${query}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    if (!res.ok) throw AgentwireError.from(((await res.json()) as Partial<ErrorAnswer>).error);
    const body = (await res.json()) as TaskListPage;
    if (body.tasks[0]) return body.tasks[0].stream;
  }
  throw new UsageError('No tasks yet: pass a stream name, or start one.');
}

export async function tail(argv: string[]): Promise<void> {
  const { values, positionals } = parseOptions(argv, specs);
  if (values.help) {
    process.stdout.write(tailHelp);
    return;
  }
  const url = String(values.url).replace(/\/+$/, '');
  const given = explicitToken(values);
  const mint =
    given === undefined ? localMinter(String(values.data), { sub: 'cli-tail', role: 'admin' }) : undefined;
  const token = given ?? (await mint?.());
  const target = positionals[0];
  const stream =
    target === undefined
      ? await newestTask(url, token)
      : target.includes(':') || target === 'system'
        ? target
        : taskStream(target);
  if (!isStreamName(stream)) throw new UsageError(`Invalid stream ${JSON.stringify(stream)}.`);

  const client = createClient({ url, ...(mint ? { getToken: mint } : token && { getToken: () => token }) });
  const view = new TailView(new EventFormatter(), (text) => process.stdout.write(text));
  const out = (text: string) => view.line(text);
  const sub = client.subscribe(stream, values['from-start'] ? { since: { seq: 0 } } : { snapshot: true });
  let lastStatus = '';
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));

  const showStatus = (state: TaskState | undefined) => {
    if (!state || values.json) return;
    // Only status, stage and progress changes earn a line; counts alone would repeat it per tool call.
    const key = `${state.status}|${state.stage}|${state.progress?.percent}`;
    if (key !== lastStatus) {
      lastStatus = key;
      out(`${pc.dim('──')} ${statusLine(state)}`);
    }
    if (values.exit && isTerminal(state)) done();
  };

  client.on('status', (status) => {
    if (!values.json) process.stderr.write(pc.dim(`[${status}]\n`));
  });
  client.on('error', (err) => process.stderr.write(pc.red(`${err.code}: ${err.message}\n`)));
  sub.on('reset', () => {
    if (!values.json) out(pc.dim('── history trimmed or reset; showing the current snapshot'));
    showStatus(sub.state);
  });
  sub.onEvent((event) => {
    if (values.json) {
      out(JSON.stringify(event));
      return;
    }
    view.event(event, sub.state);
    showStatus(sub.state);
  });
  await sub.ready;
  if (!values.json) out(`${pc.dim('following')} ${pc.bold(stream)} ${pc.dim(`at ${url}`)}`);
  showStatus(sub.state);
  const stop = () => done();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await finished;
  view.close();
  await client.close();
}
