import type { AgentHandle, TaskHandle } from '@agentwire/agent';
import { researcherModels } from './models.js';
import type { Pace } from './pace.js';
import { between, chance, pick } from './random.js';
import { ToolError, tools, useTool } from './tools.js';
import { typeOut } from './tokens.js';
import type { Angle, Topic } from './topics.js';

export interface Finding {
  focus: string;
  text: string;
  sources: number;
}

/**
 * One researcher: recalls team notes, calls two or three tools, streams its finding. With `fatal`,
 * its second tool fails for good and the researcher gives up, which fails the task.
 */
export async function research(
  task: TaskHandle,
  planner: AgentHandle,
  topic: Topic,
  angle: Angle,
  index: number,
  pace: Pace,
  fatal: boolean,
): Promise<Finding> {
  const agent = await task.spawnAgent({
    name: `researcher-${index + 1}`,
    role: `researches ${angle.focus}`,
    model: pick(researcherModels),
    parent: planner,
  });
  try {
    await agent.progress({ status: 'thinking', activity: `planning queries on ${angle.focus}`, percent: 5 });
    await pace.sleep(between(300, 900));

    await agent.progress({ status: 'recalling', activity: 'checking team notes', percent: 15 });
    await useTool(agent, tools.vector_lookup, angle, pace);
    const memories = topic.memories.map((m, i) => ({
      id: `note-${index}-${i}`,
      content: m.content,
      source: m.source,
      score: Number(between(0.71, 0.93).toFixed(3)),
    }));
    await agent.recall({ query: angle.focus, memories });
    await agent.log('debug', `Recalled ${memories.length} team notes`, {
      query: angle.focus,
      index: 'team-notes',
    });

    const steps = [tools.web_search, pick([tools.fetch_url, tools.sql_query, tools.code_run])];
    if (chance(0.5)) steps.push(tools.fetch_url);
    for (const [i, spec] of steps.entries()) {
      await agent.progress({
        status:
          spec === tools.code_run ? 'running code' : spec === tools.web_search ? 'searching' : 'reading',
        activity: `${spec.name}: ${angle.focus}`,
        percent: Math.round(20 + (60 * i) / steps.length),
      });
      await useTool(agent, spec, angle, pace, { fatal: fatal && i === 1 });
      await pace.sleep(between(150, 500));
    }

    await agent.progress({ status: 'writing', activity: 'summarising findings', percent: 85 });
    const text = await agent.streamMessage(typeOut(angle.finding, pace));
    const sources = steps.length + memories.length;
    await agent.log('info', `Finding on ${angle.focus} ready`, { chars: text.length, sources });
    await agent.complete({ focus: angle.focus, sources }, { summary: text });
    return { focus: angle.focus, text, sources };
  } catch (err) {
    if (err instanceof ToolError && !pace.signal.aborted) {
      await agent.log('error', `Giving up on ${angle.focus}: ${err.message}`, {
        code: err.code,
        retryable: err.retryable,
      });
      await agent.fail(err);
    }
    throw err;
  }
}
