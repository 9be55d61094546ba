import { randomUUID } from 'node:crypto';
import type { AgentHandle, TaskHandle } from '@agentwire/agent';
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
 * Asks the watchers a question and waits for its timeout. Answers cannot reach producers yet, so
 * the question always times out and the agent carries on with the first option as its default.
 */
export async function askWatchers(task: TaskHandle, agent: AgentHandle, pace: Pace): Promise<string> {
  const { prompt, options } = pick(questions);
  const fallback = options[0];
  const questionId = randomUUID();
  const timeoutMs = Math.round(pace.scale(between(6_000, 10_000)));
  await task.emit('question:asked', {
    questionId,
    prompt,
    agentId: agent.id,
    options: [...options],
    timeoutMs,
  });
  await agent.progress({ status: 'waiting', activity: `waiting for an answer: ${prompt}` });
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
