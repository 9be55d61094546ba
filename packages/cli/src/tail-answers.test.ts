/**
 * `agentwire tail` against a real gateway: a streamed answer shows as one growing line per message,
 * not a line per token, whether the tail watched it from its start, saw it broken by another event
 * or joined it halfway. Assertions are on what the process printed, never on when.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { connect } from '@agentwire/agent';
import { createGateway } from '@agentwire/server';
import { waitFor } from './testing/index.js';

const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
const gw = await createGateway({ engine: { kind: 'memory' }, port: 0, logLevel: 'silent' });
const producer = connect({ publisher: gw });
after(async () => {
  await producer.close();
  await gw.close();
});

/** The tail process; its stdout alone (stderr carries the connection status). */
function startTail(taskId: string) {
  const child = spawn(process.execPath, [bin, 'tail', taskId, '--url', gw.url, '--exit'], {
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    get out() {
      return out;
    },
    until: (check: (out: string) => boolean, what: string) =>
      waitFor(() => check(out), `${what} in the tail's output:\n${out}\n${err}`),
    exited,
    kill: () => child.kill(),
  };
}

/** A model's token stream at `perSecond` tokens a second: the producer's pace, not a wait. */
async function* tokens(words: readonly string[], perSecond = 50, halfway?: () => Promise<unknown>) {
  for (const [i, word] of words.entries()) {
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
    if (i === Math.floor(words.length / 2)) await halfway?.();
    yield word;
  }
}

const wordsOf = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i} `);
const answerLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.includes('💬'))
    .map((l) => l.trimEnd());

test(
  'a streamed answer grows as one line per message, at 50 tokens a second',
  { timeout: 60_000 },
  async () => {
    const task = await producer.startTask({ taskId: 'tail-grow', title: 'Growing answers' });
    const agent = await task.spawnAgent({ name: 'writer' });
    const tail = startTail('tail-grow');
    try {
      await tail.until((o) => o.includes('following task:tail-grow'), 'the tail following');
      const first = wordsOf('alpha', 100);
      await agent.streamMessage(tokens(first));
      const firstText = first.join('').trimEnd();
      await tail.until((o) => o.includes(`${first.join('')}\n`), 'the first answer, ended');

      // Part of the answer shows before it ends: the line grows.
      const second = wordsOf('beta', 60);
      let partial = '';
      await agent.streamMessage(
        tokens(second, 50, async () => {
          await tail.until((o) => o.includes('beta5 '), 'the second answer, begun');
          partial = tail.out;
          await task.log('info', 'halfway there');
        }),
      );
      await agent.complete();
      await task.complete(undefined, { summary: 'both answered' });
      assert.equal(await tail.exited, 0);

      const out = tail.out;
      const lines = answerLines(out);
      const firstLines = lines.filter((l) => l.includes('alpha'));
      assert.equal(firstLines.length, 1, `one line for the first answer:\n${out}`);
      assert.ok(firstLines[0]!.includes(`writer`), 'named by its agent');
      assert.ok(firstLines[0]!.endsWith(firstText), `the whole answer on it:\n${firstLines[0]}`);

      assert.ok(!partial.includes('beta59'), 'the second answer was shown before its last token');
      // Broken by the log line, the second answer continues on one more line: two in all.
      const secondLines = lines.filter((l) => l.includes('beta'));
      assert.equal(secondLines.length, 2, `the second answer around the log line:\n${out}`);
      // (the lines are compared trimmed, so the space a line ended on is put back by the join)
      const joined = secondLines.map((l) => l.slice(l.indexOf('💬') + 2).replace(/^ …?/, '')).join(' ');
      assert.equal(joined, second.join('').trimEnd());
      const order = ['beta0 ', 'halfway there', '…beta', 'both answered'].map((s) => out.indexOf(s));
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `answer, log line, the answer's rest, the end:\n${out}`,
      );
      assert.ok(order.every((i) => i >= 0));
    } finally {
      tail.kill();
    }
  },
);

test('a tail joining mid-answer starts the line from the text so far', { timeout: 60_000 }, async () => {
  const stream = 'task:tail-late';
  await gw.publish(stream, [
    { type: 'task:start', data: { taskId: 'tail-late', title: 'Late join' } },
    { type: 'agent:spawned', data: { agentId: 'w', name: 'late-writer' } },
    { type: 'message:start', data: { messageId: 'm', role: 'assistant', agentId: 'w' } },
  ]);
  const before = wordsOf('early', 30);
  for (const delta of before)
    await gw.publish(stream, [{ type: 'message:delta', data: { messageId: 'm', delta } }]);
  const tail = startTail('tail-late');
  try {
    await tail.until((o) => o.includes('following task:tail-late'), 'the tail following');
    const rest = wordsOf('late', 20);
    for (const delta of rest)
      await gw.publish(stream, [{ type: 'message:delta', data: { messageId: 'm', delta } }]);
    await gw.publish(stream, [
      { type: 'message:end', data: { messageId: 'm' } },
      { type: 'task:complete', data: { summary: 'joined late' } },
    ]);
    assert.equal(await tail.exited, 0);
    const lines = answerLines(tail.out);
    assert.equal(lines.length, 1, `one line for the answer:\n${tail.out}`);
    assert.ok(lines[0]!.includes('late-writer'));
    assert.ok(
      lines[0]!.endsWith(`…${[...before, ...rest].join('').trimEnd()}`),
      `the text so far, then the rest:\n${lines[0]}`,
    );
  } finally {
    tail.kill();
  }
});
