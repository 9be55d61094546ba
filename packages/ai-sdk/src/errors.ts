import type { ErrorInfo } from '@agentwire/protocol';

const MESSAGE_MAX = 4_000;

/** Clips text to a catalog field's limit, marking the cut, so an event is never refused for length. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The catalog's ErrorInfo for whatever a tool or the SDK threw; no stack, since watchers may be end users. */
export function errorInfo(error: unknown): ErrorInfo {
  const info: ErrorInfo = { message: clip(errorText(error), MESSAGE_MAX) };
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && code.length <= 128) info.code = code;
  return info;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null) {
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return String(error);
}

/** The text a cancel event carries for an abort reason (an Error, a DOMException or anything else). */
export function abortReason(reason: unknown): string {
  return clip(reason === undefined ? 'The call was aborted.' : errorText(reason), 2_000);
}
