import { AgentwireError, type Producer, type TaskHandle } from '@agentwire/agent';
import { plannerModels, synthesizerModels } from './models.js';
import type { Pace } from './pace.js';
import { askWatchers } from './question.js';
import { between, int, pick, sample } from './random.js';
import { research, type Finding } from './researcher.js';
import { tokenize, typeOut } from './tokens.js';
import { ToolError } from './tools.js';
import type { Topic } from './topics.js';

/** What the workload decides for a task up front, so every kind of event shows up regularly. */
export interface TaskPlan {
  topic: Topic;
  askQuestion: boolean;
  /** One researcher hits a fatal tool error and the task fails. */
  fail: boolean;
}

/** `lost`: the task could not be published (gateway unreachable past all retries) and was dropped. */
export type Outcome = 'completed' | 'failed' | 'cancelled' | 'lost';

export interface TaskEnv {
  pace: Pace;
  log: (message: string) => void;
}

const STAGES = ['planning', 'research', 'synthesis'];

/** Runs one task from start to end and reports how it ended; never rejects. */
export async function runTask(aw: Producer, plan: TaskPlan, env: TaskEnv): Promise<Outcome> {
  const { topic } = plan;
  let task: TaskHandle;
  try {
    task = await aw.startTask({
      title: topic.title,
      projectId: topic.projectId,
      kind: topic.kind,
      input: topic.input,
      stages: STAGES,
      estimatedMs: Math.round(env.pace.scale(18_000)),
    });
  } catch (err) {
    env.log(`! could not start "${topic.title}": ${describe(err)}`);
    return 'lost';
  }
  return runStartedTask(task, plan, env);
}

/**
 * Runs the script on a task already started: by runTask, or by the gateway's start command through
 * the demo worker. Never rejects; a cancel of the task or the demo's stop ends it as cancelled.
 */
export async function runStartedTask(task: TaskHandle, plan: TaskPlan, env: TaskEnv): Promise<Outcome> {
  const { topic } = plan;
  // Stops on the demo's stop() and on a cancel of this task alike.
  const signal = AbortSignal.any([env.pace.signal, task.signal]);
  const pace = env.pace.with(signal);
  const started = Date.now();
  env.log(`▶ ${topic.title} [${topic.projectId ?? 'no project'}] ${task.stream}`);
  try {
    const outcome = await script(task, plan, pace);
    env.log(`${outcome === 'completed' ? '✓' : '✗'} ${topic.title}: ${outcome} after ${seconds(started)} s`);
    return outcome;
  } catch (err) {
    if (signal.aborted) {
      if (!task.signal.aborted)
        await task.cancel({ reason: 'demo stopped', by: 'demo' }).catch(() => undefined);
      env.log(`■ ${topic.title}: cancelled after ${seconds(started)} s`);
      return 'cancelled';
    }
    env.log(`! ${topic.title}: ${describe(err)}; moving on`);
    // Only a bug lands here with the gateway still reachable; then the task should not hang open.
    if (!(err instanceof AgentwireError)) await task.fail(err).catch(() => undefined);
    return 'lost';
  }
}

async function script(task: TaskHandle, plan: TaskPlan, pace: Pace): Promise<Outcome> {
  const { topic } = plan;
  const angles = sample(topic.angles, int(2, Math.min(4, topic.angles.length)));
  await task.log('info', 'Task accepted', {
    ...(topic.projectId !== undefined && { project: topic.projectId }),
    kind: topic.kind,
    researchers: angles.length,
  });

  // Planning.
  await task.stage('planning', 'Breaking the request into research questions');
  await task.progress({ percent: 2, message: 'planning' });
  const planner = await task.spawnAgent({
    name: 'planner',
    role: 'plans the work and delegates',
    model: pick(plannerModels),
  });
  await planner.progress({
    status: 'thinking',
    activity: `reading the request: ${topic.title}`,
    percent: 10,
  });
  await pace.sleep(between(600, 1_400));
  const steps = angles.map((a, i) => `(${i + 1}) research ${a.focus}`).join(', ');
  await planner.streamMessage(typeOut(`Plan: ${steps}, then synthesise a recommendation.`, pace));
  await planner.log('info', 'Plan ready', {
    steps: angles.length + 1,
    researchers: angles.length,
    focuses: angles.map((a) => a.focus),
  });
  if (plan.askQuestion) await askWatchers(task, planner, pace);
  await task.progress({ percent: 10, message: 'plan ready' });

  // Research, in parallel.
  await task.stage('research', `${angles.length} researchers working in parallel`);
  await planner.progress({
    status: 'delegating',
    activity: `waiting on ${angles.length} researchers`,
    percent: 30,
  });
  const doomed = plan.fail ? int(0, angles.length - 1) : -1;
  let done = 0;
  const settled = await Promise.allSettled(
    angles.map(async (angle, i) => {
      await pace.sleep(i * between(100, 400));
      const finding = await research(task, planner, topic, angle, i, pace, i === doomed);
      done++;
      await task.progress({
        percent: Math.round(10 + (70 * done) / angles.length),
        message: `${done} of ${angles.length} findings in`,
        current: done,
        total: angles.length,
      });
      return finding;
    }),
  );
  const findings: Finding[] = [];
  let cause: ToolError | undefined;
  for (const r of settled) {
    if (r.status === 'fulfilled') findings.push(r.value);
    else if (r.reason instanceof ToolError && !pace.signal.aborted) cause ??= r.reason;
    // A watcher stopped this researcher alone (stop_agent): the others' findings still count.
    else if (isAbort(r.reason) && !pace.signal.aborted) continue;
    else throw r.reason;
  }
  if (cause) {
    await planner.log('error', 'A researcher failed; the answer would be incomplete', {
      error: cause.message,
      code: cause.code,
      findings: findings.length,
    });
    await planner.fail(cause);
    await task.fail(cause, { reason: 'error' });
    return 'failed';
  }

  // Synthesis.
  await task.stage('synthesis', 'Merging findings into an answer');
  await task.progress({ percent: 85, message: 'synthesising' });
  const synthesizer = await task.spawnAgent({
    name: 'synthesizer',
    role: 'writes the final answer',
    model: pick(synthesizerModels),
    parent: planner,
  });
  await planner.handoff(synthesizer, `Research complete: ${findings.length} findings to merge`, {
    findings: findings.map((f) => f.focus),
  });
  await planner.complete({ delegated: findings.length });
  await synthesizer.progress({
    status: 'reading',
    activity: `reading ${findings.length} findings`,
    percent: 10,
  });
  await pace.sleep(between(500, 1_200));
  await synthesizer.progress({ status: 'writing', activity: 'drafting the answer', percent: 40 });
  const answer = await synthesizer.streamMessage(typeOut(topic.answer, pace));
  const sources = findings.reduce((n, f) => n + f.sources, 0);
  const outputTokens = tokenize(answer).length;
  await synthesizer.log('info', 'Answer drafted', { chars: answer.length, tokens: outputTokens, sources });
  await synthesizer.complete(undefined, { summary: firstSentence(answer) });
  const inputTokens = int(6_000, 24_000);
  await task.custom('usage', {
    inputTokens,
    outputTokens,
    costUsd: Number(((inputTokens * 3 + outputTokens * 15) / 1e6).toFixed(4)),
  });
  await task.complete({ answer, sources }, { summary: firstSentence(answer) });
  return 'completed';
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

function firstSentence(text: string): string {
  const end = text.search(/[.!?](\s|$)/);
  return end === -1 ? text : text.slice(0, end + 1);
}

function seconds(since: number): string {
  return ((Date.now() - since) / 1_000).toFixed(1);
}

function describe(err: unknown): string {
  if (err instanceof AgentwireError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
