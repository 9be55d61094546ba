import { clip } from './errors.js';
import type { RunDescription } from './target.js';

const TITLE_MAX = 200;
const NAME_MAX = 200;

/** Names a run's task and agent from the call: the prompt (or last user message) and the model. */
export function describeCall(
  call: { prompt?: unknown; messages?: unknown; model?: unknown },
  agentName: string,
): RunDescription {
  const title = promptText(call.prompt) ?? lastUserText(call.messages) ?? 'AI SDK run';
  const description: RunDescription = {
    title: clip(title.replace(/\s+/g, ' ').trim() || 'AI SDK run', TITLE_MAX),
    agentName: clip(agentName, NAME_MAX),
  };
  const model = modelId(call.model);
  if (model !== undefined) description.model = clip(model, NAME_MAX);
  return description;
}

function promptText(prompt: unknown): string | undefined {
  if (typeof prompt === 'string') return prompt;
  return lastUserText(prompt);
}

function lastUserText(messages: unknown): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown };
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      const text = m.content
        .filter((p: { type?: unknown; text?: unknown }) => p?.type === 'text' && typeof p.text === 'string')
        .map((p: { text: string }) => p.text)
        .join(' ');
      if (text !== '') return text;
    }
  }
  return undefined;
}

function modelId(model: unknown): string | undefined {
  if (typeof model === 'string') return model;
  if (typeof model === 'object' && model !== null) {
    const id = (model as { modelId?: unknown }).modelId;
    if (typeof id === 'string') return id;
  }
  return undefined;
}
