import type { AnyAgent } from './sdk-types.js';

/** What watchers see as an agent's model: the configured name, or the model object's class. */
export function modelName(agent: AnyAgent, runModel: unknown): string | undefined {
  const model: unknown = agent.model === '' || agent.model === undefined ? runModel : agent.model;
  if (typeof model === 'string') return model === '' ? undefined : model.slice(0, 200);
  if (typeof model === 'object' && model !== null) {
    const name = (model as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== 'Object' ? name.slice(0, 200) : undefined;
  }
  return undefined;
}
