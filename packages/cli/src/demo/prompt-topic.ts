import type { TaskStart } from '@agentwire/agent';
import type { Topic } from './topics.js';

// Where the seed clients and the dashboard put the request: seed 000's `task` / `prompt`, seed
// 002's `userQuery`, the dashboard's `prompt`, and the names other clients tend to use.
const PROMPT_FIELDS = ['prompt', 'userQuery', 'task', 'query', 'question', 'text', 'title'] as const;

/** The request a started task carries: its input's text, else the start's title, else its kind. */
export function promptOf(input: unknown, start: TaskStart): string {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined);
  let found = text(input);
  if (found === undefined && typeof input === 'object' && input !== null) {
    const fields = input as Record<string, unknown>;
    for (const name of PROMPT_FIELDS) {
      found = text(fields[name]);
      if (found !== undefined) break;
    }
  }
  return (found ?? text(start.title) ?? `a ${start.kind} task`).replace(/\s+/g, ' ').trim();
}

/**
 * A topic for a request nobody scripted: the same planner, researchers and synthesizer as the canned
 * topics, with queries, findings and an answer phrased around the request. It says it is a demo, so
 * nobody mistakes the canned findings for research.
 */
export function promptTopic(prompt: string, kind: string, projectId: string | undefined): Topic {
  const about = prompt.length > 80 ? `${prompt.slice(0, 79)}…` : prompt;
  const q = about.replace(/[?.!…]+$/, '');
  return {
    title: about,
    ...(projectId !== undefined && { projectId }),
    kind,
    input: { prompt },
    angles: [
      {
        focus: 'background',
        query: `${q} overview`,
        finding: `Most write-ups on "${q}" agree on the basics; where they differ is cost and how much running it takes.`,
      },
      {
        focus: 'options',
        query: `${q} alternatives comparison`,
        finding: `There are three common ways to approach "${q}": two are mature and well documented, one is newer and promising but has few production reports.`,
      },
      {
        focus: 'risks',
        query: `${q} pitfalls lessons learned`,
        finding: `Teams that took on "${q}" most often ran into unclear ownership and missing monitoring, rarely into the technology itself.`,
      },
      {
        focus: 'effort',
        query: `${q} effort estimate`,
        finding: `A first useful version of "${q}" takes a small team two to four weeks; most of that is integration and testing.`,
      },
    ],
    memories: [{ content: `No earlier team notes mention "${q}".`, source: 'notes/index' }],
    answer: `On "${q}": start with the most mature of the three common approaches as a small pilot, give it an owner and monitoring from day one, and judge it after two weeks against one clear success metric. The newer approach is worth a second look once it has production reports. (This is agentwire's demo swarm: the findings are scripted and no model was called.)`,
  };
}
