/**
 * What a page itself sees of its smoothness: the interval between animation frames (a
 * requestAnimationFrame loop) and the long tasks the PerformanceObserver reports. Installed before
 * the app loads; `reset` starts the measured window, `read` ends it.
 */
import type { Page } from 'playwright-core';

interface ProbeState {
  frames: number[];
  longTasks: number[];
}

declare global {
  interface Window {
    __renderProbe?: ProbeState;
  }
}

export async function installProbe(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const probe: ProbeState = { frames: [], longTasks: [] };
    window.__renderProbe = probe;
    let last: number | undefined;
    const tick = (t: number) => {
      if (last !== undefined) probe.frames.push(t - last);
      last = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) probe.longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
}

export async function resetProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const p = window.__renderProbe!;
    p.frames = [];
    p.longTasks = [];
  });
}

export interface FrameStats {
  frames: number;
  /** Vsync intervals that passed without a frame: an interval of 3 × 16.7 ms dropped 2. */
  dropped: number;
  p50: number;
  p99: number;
  max: number;
  longTasks: number;
  longTaskMs: number;
}

const VSYNC_MS = 1000 / 60;

export async function readProbe(page: Page): Promise<FrameStats> {
  const { frames, longTasks } = await page.evaluate(() => window.__renderProbe!);
  return frameStats(frames, longTasks);
}

export function frameStats(frames: readonly number[], longTasks: readonly number[]): FrameStats {
  const sorted = [...frames].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  let dropped = 0;
  for (const f of frames) dropped += Math.max(0, Math.round(f / VSYNC_MS) - 1);
  return {
    frames: frames.length,
    dropped,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? 0,
    longTasks: longTasks.length,
    longTaskMs: longTasks.reduce((a, b) => a + b, 0),
  };
}
