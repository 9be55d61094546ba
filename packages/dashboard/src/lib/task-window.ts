/** Rows per step of the task list's window: it moves only when the view crosses a step. */
export const TASK_WINDOW_STEP = 50;
/** The gateway sends at most this many rows per window. */
const MAX_WINDOW = 1000;

/**
 * The window of the task list to ask the gateway for while rows `first` to `last` (excluded) are
 * rendered: those rows and a step either side, aligned to steps, so scrolling asks again only
 * every `TASK_WINDOW_STEP` rows instead of on every pixel.
 */
export function taskWindow(first: number, last: number): { offset: number; limit: number } {
  const step = TASK_WINDOW_STEP;
  const offset = Math.max(0, Math.floor(first / step) * step - step);
  const end = Math.ceil(Math.max(last, first + 1) / step) * step + step;
  return { offset, limit: Math.min(MAX_WINDOW, end - offset) };
}
