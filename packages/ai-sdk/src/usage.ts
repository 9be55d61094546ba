import type { LanguageModelUsage } from 'ai';

/** Token counts as published (`custom:event` "usage", results, step logs): flat, only what is known. */
export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  reasoningTokens?: number;
  cachedInputTokens?: number;
}

export function toUsage(usage: LanguageModelUsage | undefined): Usage {
  if (!usage) return {};
  const out: Usage = {};
  const set = (key: keyof Usage, value: number | undefined) => {
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  };
  set('inputTokens', usage.inputTokens);
  set('outputTokens', usage.outputTokens);
  set('totalTokens', usage.totalTokens);
  set('reasoningTokens', usage.outputTokenDetails?.reasoningTokens);
  set('cachedInputTokens', usage.inputTokenDetails?.cacheReadTokens);
  return out;
}

/** Adds the usage of several calls (an agent run resumed after approvals). */
export function addUsage(a: LanguageModelUsage, b: LanguageModelUsage): LanguageModelUsage {
  const sum = (x: number | undefined, y: number | undefined) =>
    x === undefined && y === undefined ? undefined : (x ?? 0) + (y ?? 0);
  return {
    inputTokens: sum(a.inputTokens, b.inputTokens),
    inputTokenDetails: {
      noCacheTokens: sum(a.inputTokenDetails?.noCacheTokens, b.inputTokenDetails?.noCacheTokens),
      cacheReadTokens: sum(a.inputTokenDetails?.cacheReadTokens, b.inputTokenDetails?.cacheReadTokens),
      cacheWriteTokens: sum(a.inputTokenDetails?.cacheWriteTokens, b.inputTokenDetails?.cacheWriteTokens),
    },
    outputTokens: sum(a.outputTokens, b.outputTokens),
    outputTokenDetails: {
      textTokens: sum(a.outputTokenDetails?.textTokens, b.outputTokenDetails?.textTokens),
      reasoningTokens: sum(a.outputTokenDetails?.reasoningTokens, b.outputTokenDetails?.reasoningTokens),
    },
    totalTokens: sum(a.totalTokens, b.totalTokens),
  };
}

export function usageLine(u: Usage): string {
  if (u.inputTokens === undefined && u.outputTokens === undefined) return 'usage not reported';
  return `${u.inputTokens ?? '?'} input + ${u.outputTokens ?? '?'} output tokens`;
}
