/**
 * A producer in its own process for the end-to-end tests: the agent SDK over HTTP and the producer
 * channel, as a user would run it. It reports what happens to it as JSON lines on stdout, with
 * timestamps on the shared wall clock (`performance.timeOrigin + performance.now()`), so the test
 * can measure how long a watcher's cancel took to reach it.
 *
 * Usage: node producer-child.js '{"url": "http://127.0.0.1:1234", "mode": "long", "taskId": "t1"}'
 */
import { connect, type TaskHandle } from '@agentwire/agent';

interface Config {
  url: string;
  mode: 'long' | 'ask' | 'chat' | 'worker' | 'hang';
  taskId?: string;
  name?: string;
  kinds?: string[];
  capacity?: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const now = () => performance.timeOrigin + performance.now();
const report = (event: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, at: now(), ...fields })}\n`);
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

const aw = connect({
  url: config.url,
  name: config.name ?? `child-${process.pid}`,
  reconnect: { minDelayMs: 20, maxDelayMs: 200 },
  retry: { baseDelayMs: 20, maxDelayMs: 200 },
  onCommandStatus: (status) => report('channel', { status }),
});

/** Works until cancelled: tool calls that honour the signal, then token streams, over and over. */
async function longWork(task: TaskHandle): Promise<void> {
  task.signal.addEventListener(
    'abort',
    () => report('aborted', { reason: String((task.signal.reason as Error).message) }),
    {
      once: true,
    },
  );
  const agent = await task.spawnAgent({ name: 'researcher' });
  let announced = false;
  for (let i = 0; ; i++) {
    await agent.tool('crawl', { page: i }, (signal) => sleep(40, signal));
    if (!announced) {
      announced = true;
      report('ready', { stream: task.stream });
    }
    // A model's token stream: it ignores the signal, as most do; streamMessage stops it anyway.
    async function* tokens(): AsyncGenerator<string> {
      for (let t = 0; t < 8; t++) {
        await sleep(15);
        yield `token${t} `;
      }
    }
    await agent.streamMessage(tokens());
  }
}

async function main(): Promise<void> {
  switch (config.mode) {
    case 'long': {
      const task = await aw.startTask({
        title: 'Long research',
        ...(config.taskId && { taskId: config.taskId }),
      });
      try {
        await longWork(task);
      } catch (err) {
        report('stopped', { aborted: task.signal.aborted, error: (err as Error).name });
      }
      break;
    }
    case 'ask': {
      const task = await aw.startTask({
        title: 'Needs a decision',
        ...(config.taskId && { taskId: config.taskId }),
      });
      report('ready', { stream: task.stream });
      const result = await task.ask<string, string>('How deep should I go?', {
        options: ['quick', 'thorough'],
        timeout: 10_000,
        default: 'quick',
      });
      report('answered', { result });
      await task.complete({ depth: result.answer });
      break;
    }
    case 'chat': {
      const task = await aw.startTask({ title: 'Chatty', ...(config.taskId && { taskId: config.taskId }) });
      report('ready', { stream: task.stream });
      for await (const message of task.messages()) {
        report('message', { text: message.text, from: message.from });
        if (message.text === 'bye') break;
      }
      await task.complete();
      break;
    }
    case 'worker': {
      aw.worker(config.capacity === undefined ? {} : { capacity: config.capacity });
      for (const kind of config.kinds ?? ['research']) {
        aw.handle<{ ms?: number }>(kind, async (task, input) => {
          report('started', { taskId: task.id, kind, input });
          await sleep(input?.ms ?? 60_000, task.signal);
          return { by: config.name };
        });
      }
      // Serve until the test stops us.
      await new Promise(() => undefined);
      break;
    }
    case 'hang': {
      const task = await aw.startTask({
        title: 'Will be killed',
        ...(config.taskId && { taskId: config.taskId }),
      });
      await task.log('info', 'working');
      report('ready', { stream: task.stream });
      await new Promise(() => undefined);
      break;
    }
  }
  await aw.close();
  report('exit');
  process.exit(0);
}

main().catch((err: unknown) => {
  report('crashed', { error: String(err) });
  process.exit(1);
});
