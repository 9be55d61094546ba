import type { AgentHandle } from '@agentwire/agent';
import type { Pace } from './pace.js';
import { between, chance, int, pick } from './random.js';
import type { Angle } from './topics.js';

/** A failure a simulated tool reports, shaped like the ones real APIs give. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

interface ToolSpec {
  name: string;
  /** Latency range at speed 1, in ms. */
  latency: [number, number];
  args(angle: Angle): unknown;
  result(angle: Angle): unknown;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
const sites = ['docs', 'engineering', 'blog', 'wiki', 'status', 'github'];

export const tools: Record<
  'web_search' | 'fetch_url' | 'vector_lookup' | 'code_run' | 'sql_query',
  ToolSpec
> = {
  web_search: {
    name: 'web_search',
    latency: [400, 1_800],
    args: (a) => ({ query: a.query, topK: 8 }),
    result: (a) => ({
      hits: int(6, 8),
      top: [1, 2, 3].map((i) => ({
        title: `${a.focus}: ${pick(['benchmark', 'field report', 'deep dive', 'postmortem', 'guide'])} ${i}`,
        url: `https://${pick(sites)}.example.com/${slug(a.focus)}/${i}`,
      })),
    }),
  },
  fetch_url: {
    name: 'fetch_url',
    latency: [250, 2_500],
    args: (a) => ({ url: `https://${pick(sites)}.example.com/${slug(a.focus)}` }),
    result: () => ({ status: 200, contentType: 'text/html', bytes: int(18_000, 240_000) }),
  },
  vector_lookup: {
    name: 'vector_lookup',
    latency: [120, 600],
    args: (a) => ({ index: 'team-notes', query: a.focus, k: 5 }),
    result: () => ({ matches: 5, bestScore: Number(between(0.72, 0.94).toFixed(3)) }),
  },
  code_run: {
    name: 'code_run',
    latency: [800, 3_500],
    args: (a) => ({ language: 'python', code: `df = load("${slug(a.focus)}.csv")\nprint(df.describe())` }),
    result: () => ({
      exitCode: 0,
      stdout: `count  ${int(200, 5_000)}\nmean   ${between(0.2, 40).toFixed(2)}`,
      cpuMs: int(300, 2_900),
    }),
  },
  sql_query: {
    name: 'sql_query',
    latency: [200, 1_500],
    args: (a) => ({
      sql: `select * from findings where topic = '${slug(a.focus)}' order by created_at desc limit 50`,
    }),
    result: () => ({ rows: int(3, 50), elapsedMs: int(12, 400) }),
  },
};

const transient = [
  ['429 Too Many Requests from the search API', 'rate_limited'],
  ['upstream 503 Service Unavailable', 'upstream_unavailable'],
  ['ETIMEDOUT after 5000 ms', 'ETIMEDOUT'],
] as const;

const fatal = [
  ['403 Forbidden: robots.txt disallows /reports', 'forbidden'],
  ['sandbox killed: memory limit of 512 MB exceeded', 'oom_killed'],
  ['401 Unauthorized: API key revoked', 'unauthorized'],
] as const;

/**
 * Calls a simulated tool through the SDK the way an agent framework would: a transient failure
 * is logged and retried once (attempt 2); a fatal one is rethrown for the agent to give up on.
 */
export async function useTool(
  agent: AgentHandle,
  spec: ToolSpec,
  angle: Angle,
  pace: Pace,
  options: { fatal?: boolean } = {},
): Promise<unknown> {
  const args = spec.args(angle);
  const run =
    (failWith?: readonly [string, string], retryable = false) =>
    async (signal: AbortSignal) => {
      const [min, max] = spec.latency;
      // The SDK's signal stops the call on a cancel of the task or of this agent alone.
      await pace.with(AbortSignal.any([pace.signal, signal])).sleep(between(min, max) * (failWith ? 0.6 : 1));
      if (failWith) throw new ToolError(failWith[0], failWith[1], retryable);
      return spec.result(angle);
    };
  const retryable = (err: unknown) => err instanceof ToolError && err.retryable;

  if (options.fatal) return agent.tool(spec.name, args, run(pick(fatal)), { retryable });
  if (!chance(0.12)) return agent.tool(spec.name, args, run(), { retryable });
  try {
    return await agent.tool(spec.name, args, run(pick(transient), true), { retryable });
  } catch (err) {
    if (!retryable(err)) throw err;
    const backoffMs = Math.round(between(300, 1_200));
    await agent.log('warn', `${spec.name} failed: ${(err as Error).message}; retrying`, {
      tool: spec.name,
      attempt: 1,
      code: (err as ToolError).code,
      backoffMs,
    });
    await pace.sleep(backoffMs);
    return agent.tool(spec.name, args, run(), { attempt: 2, retryable });
  }
}
