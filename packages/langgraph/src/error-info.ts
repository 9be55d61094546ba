import type { EventData } from '@agentwire/protocol';

type ErrorInfo = EventData<'task:failed'>['error'];

const MAX_MESSAGE = 4_000;

/** An error (or LangGraph's description of one) as the catalog's ErrorInfo, without a stack. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code ?? (error as { lc_error_code?: unknown }).lc_error_code;
    return {
      message: clip(error.message || error.name),
      ...(typeof code === 'string' && code !== '' && { code: code.slice(0, 128) }),
    };
  }
  if (typeof error === 'object' && error !== null) {
    const { message } = error as { message?: unknown };
    if (typeof message === 'string') return { message: clip(message) };
  }
  return { message: clip(typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error))) };
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}
