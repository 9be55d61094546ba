import type { Agent } from '@openai/agents';

// The SDK's agents are generic in their run context and output type, and a run hands over agents
// of any of them (handoffs mix them freely): the adapter treats them all alike.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAgent = Agent<any, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AgentWithContext<TContext> = Agent<TContext, any>;
