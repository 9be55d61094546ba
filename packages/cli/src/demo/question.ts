import { randomUUID } from 'node:crypto';
import { AgentwireError, type AgentHandle, type TaskHandle } from '@agentwire/agent';
import { abortableDelay, type Pace } from './pace.js';
import { between, pick } from './random.js';

const questions = [
  {
    prompt: 'Which sources should I prioritise?',
    options: [
      { value: 'official', label: 'Official docs and published benchmarks' },
      { value: 'internal', label: 'Our internal notes first' },
      { value: 'all', label: 'Everything, ranked by recency' },
    ],
  },
  {
    prompt: 'How deep should the research go?',
    options: [
      { value: 'overview', label: 'Quick overview (about 5 minutes)' },
      { value: 'thorough', label: 'Thorough (about 20 minutes)' },
    ],
  },
  {
    prompt: 'Should cost be part of the comparison?',
    options: [
      { value: 'yes', label: 'Yes, include cost' },
      { value: 'no', label: 'No, quality only' },
    ],
  },
] as const;

/**
 * Asks the watchers a question with `task.ask()`: a watcher's answer (from the dashboard, the client
 * SDK, a seed 002 `feedback`) steers the agent; without one before the timeout it carries on with
 * the first option as its default. A producer without a command channel (an in-memory publisher in
 * tests) cannot hear answers, so it only shows the question and waits out the timeout.
 */
export async function askWatchers(task: TaskHandle, agent: AgentHandle, pace: Pace): Promise<string> {
  const { prompt, options } = pick(questions);
  const fallback = options[0];
  const timeoutMs = Math.round(pace.scale(between(6_000, 10_000)));
  await agent.progress({ status: 'waiting', activity: `waiting for an answer: ${prompt}` });
  let result;
  try {
    result = await task.ask<string, string>(prompt, {
      options: [...options],
      timeout: timeoutMs,
      agent,
      default: fallback.value,
      signal: pace.signal,
    });
  } catch (err) {
    if (err instanceof AgentwireError && err.code === 'no_producer')
      return unheard(task, agent, pace, prompt, timeoutMs);
    throw err;
  }
  if (result.timedOut) {
    await agent.log(
      'info',
      `No answer within ${Math.round(timeoutMs / 1_000)} s; going with "${fallback.label}"`,
      {
        questionId: result.questionId,
        answer: fallback.value,
      },
    );
    return fallback.value;
  }
  const chosen = options.find((o) => o.value === result.answer) ?? fallback;
  await agent.log('info', `${result.by ?? 'A watcher'} chose "${chosen.label}"`, {
    questionId: result.questionId,
    answer: chosen.value,
    ...(result.by !== undefined && { by: result.by }),
  });
  return chosen.value;
}

/** The question as shown to watchers who cannot answer it: asked, then timed out to the default. */
async function unheard(
  task: TaskHandle,
  agent: AgentHandle,
  pace: Pace,
  prompt: string,
  timeoutMs: number,
): Promise<string> {
  const { options } = questions.find((q) => q.prompt === prompt)!;
  const fallback = options[0];
  const questionId = randomUUID();
  await task.emit('question:asked', {
    questionId,
    prompt,
    agentId: agent.id,
    options: [...options],
    timeoutMs,
  });
  await abortableDelay(timeoutMs, pace.signal);
  await task.emit('question:answered', { questionId, answer: fallback.value, timedOut: true });
  await agent.log(
    'info',
    `No answer within ${Math.round(timeoutMs / 1_000)} s; going with "${fallback.label}"`,
    {
      questionId,
      answer: fallback.value,
    },
  );
  return fallback.value;
}
