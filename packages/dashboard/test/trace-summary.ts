/**
 * What a Chromium performance trace (CDP Tracing, as `browser.startTracing` records it) says about
 * the renderers' main threads: how busy each was, its long tasks, and the frames the compositor
 * reported as dropped.
 */

interface TraceEvent {
  name: string;
  cat?: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: Record<string, unknown>;
}

/**
 * The categories the summary reads: the top-level tasks, and the frame reporter (its events carry
 * `cc` and `benchmark` too, which would record every compositor step of every page).
 */
export const TRACE_CATEGORIES = ['toplevel', 'disabled-by-default-devtools.timeline.frame'];

export interface RendererLoad {
  pid: number;
  /** Share of the window the main thread spent running tasks, 0–100. */
  busyPercent: number;
  /** Main-thread tasks of 50 ms or more. */
  longTasks: number;
  /** Frames the compositor's frame reporter marked dropped. */
  droppedFrames: number;
  presentedFrames: number;
}

const TASK_NAMES = new Set(['ThreadControllerImpl::RunTask', 'RunTask']);
const LONG_TASK_US = 50_000;

export function summarizeTrace(json: string, windowMs: number): RendererLoad[] {
  const parsed = JSON.parse(json) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  const mains = new Map<number, number>();
  for (const e of events) {
    if (e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      mains.set(e.pid, e.tid);
  }
  const loads = new Map<number, RendererLoad & { spans: [number, number][] }>();
  for (const [pid] of mains) {
    loads.set(pid, { pid, busyPercent: 0, longTasks: 0, droppedFrames: 0, presentedFrames: 0, spans: [] });
  }
  for (const e of events) {
    const load = loads.get(e.pid);
    if (!load) continue;
    if (e.ph === 'X' && TASK_NAMES.has(e.name) && e.tid === mains.get(e.pid) && e.dur !== undefined) {
      load.spans.push([e.ts, e.ts + e.dur]);
      if (e.dur >= LONG_TASK_US) load.longTasks++;
    }
    if (e.name === 'PipelineReporter' && (e.ph === 'b' || e.ph === 'X')) {
      const reporter = (e.args?.frame_reporter ?? e.args?.chrome_frame_reporter) as
        { state?: string } | undefined;
      const state = reporter?.state;
      if (state === 'STATE_DROPPED') load.droppedFrames++;
      else if (state === 'STATE_PRESENTED_ALL' || state === 'STATE_PRESENTED_PARTIAL') load.presentedFrames++;
    }
  }
  const out: RendererLoad[] = [];
  for (const { spans, ...load } of loads.values()) {
    // Nested task events (a task running a nested loop) would count twice: merge the spans.
    spans.sort((a, b) => a[0] - b[0]);
    let busy = 0;
    let end = -Infinity;
    for (const [s, e] of spans) {
      if (e <= end) continue;
      busy += e - Math.max(s, end);
      end = e;
    }
    out.push({ ...load, busyPercent: (busy / 1000 / windowMs) * 100 });
  }
  // Renderers that did nothing in the window (a spare process) say nothing about the pages.
  return out.filter((l) => l.busyPercent > 0.5).sort((a, b) => b.busyPercent - a.busyPercent);
}
