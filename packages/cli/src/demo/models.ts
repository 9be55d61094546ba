/** Model names of the kind users run; the demo only labels agents with them. */
export const plannerModels = ['claude-sonnet-4', 'gpt-4o', 'gemini-2.5-pro'] as const;
export const researcherModels = [
  'claude-haiku-4',
  'gpt-4o-mini',
  'llama-3.1-70b',
  'claude-sonnet-4',
] as const;
export const synthesizerModels = ['claude-opus-4', 'gpt-4.1', 'claude-sonnet-4'] as const;
