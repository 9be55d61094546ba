import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '@agentwire/agent';
import type { AnyEnvelope } from '@agentwire/protocol';
import { createGateway } from '@agentwire/server';
import { startDemoWorkload } from './index.js';
import { waitFor } from '../testing/index.js';

/**
 * The demo listens: a watcher's answer steers the agent that asked (instead of the timeout's
 * default), and a watcher's cancel stops the task's agents for real.
 */
test("watchers' answers reach the demo's agents and their cancels stop its tasks", async () => {
  const gw = await createGateway({ port: 0, logLevel: 'silent' });
  const aw = connect({ publisher: gw });
  const seen: AnyEnvelope[] = [];
  const off = gw.engine.onAppend((_stream, events) => seen.push(...events));
  // Answer the first question with its last option, as someone called "tester".
  const answered = new Promise<{ stream: string; answer: string }>((resolve, reject) => {
    const stop = gw.engine.onAppend((stream, events) => {
      const asked = events.find((e) => e.type === 'question:asked');
      if (!asked || asked.type !== 'question:asked') return;
      stop();
      const answer = asked.data.options!.at(-1)!.value;
      gw.commands
        .dispatch(
          { type: 'answer', stream, questionId: asked.data.questionId, answer },
          { subject: 'tester' },
        )
        .then(() => resolve({ stream, answer }), reject);
    });
  });
  const demo = startDemoWorkload(aw, { concurrency: 3, speed: 25 });
  try {
    const { stream, answer } = await answered;
    await waitFor(
      () =>
        seen.some(
          (e) =>
            e.stream === stream &&
            e.type === 'log:entry' &&
            /^tester chose/.test((e.data as { message: string }).message),
        ),
      'the answer to be logged',
    );
    const recorded = seen.find((e) => e.stream === stream && e.type === 'question:answered')!;
    assert.deepEqual(
      { answer: (recorded.data as { answer: unknown }).answer, by: (recorded.data as { by?: string }).by },
      { answer, by: 'tester' },
    );

    // Cancel a task that is still running; its agents stop publishing.
    let victim: string | undefined;
    await waitFor(() => {
      const started = seen.filter((e) => e.type === 'tool:executing').map((e) => e.stream);
      const ended = new Set(
        seen.filter((e) => /^task:(complete|failed|cancelled)$/.test(e.type)).map((e) => e.stream),
      );
      victim = started.find((s) => !ended.has(s));
      return victim !== undefined;
    }, 'a running task');
    await gw.commands.dispatch(
      { type: 'cancel', stream: victim!, reason: 'seen enough' },
      { subject: 'tester' },
    );
    await new Promise((r) => setTimeout(r, 300));
    const events = (await gw.engine.read(victim!, 0, 10_000)).events;
    assert.equal(
      events.at(-1)!.type,
      'task:cancelled',
      events
        .slice(-3)
        .map((e) => e.type)
        .join(', '),
    );
    assert.equal((events.at(-1)!.data as { by?: string }).by, 'tester');
  } finally {
    off();
    await demo.stop();
    await aw.close();
    await gw.close();
  }
});
