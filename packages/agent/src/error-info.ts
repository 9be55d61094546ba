import type { ErrorInfo } from '@agentwire/protocol';

const MAX_MESSAGE = 4_000;

/**
 * Turns whatever was thrown into the catalog's ErrorInfo. Stacks are left out on purpose: watchers
 * may be end users, and a failure report must not leak file paths. Messages are clipped rather than
 * refused, because failing to report a failure would hide it entirely.
 */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const info: ErrorInfo = { message: clip(error.message || error.name) };
    if (typeof code === 'string' && code.length <= 128) info.code = code;
    return info;
  }
  if (typeof error === 'string') return { message: clip(error) };
  if (typeof error === 'object' && error !== null && typeof (error as ErrorInfo).message === 'string') {
    const { message, code } = error as ErrorInfo;
    return typeof code === 'string'
      ? { message: clip(message), code: code.slice(0, 128) }
      : { message: clip(message) };
  }
  return { message: clip(String(error)) };
}

function clip(message: string): string {
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;
}
