import { memo, type ReactNode } from 'react';
import type { TaskState } from '@agentwire/protocol';
import { formatDuration } from '../lib/format.js';
import { layoutTimeline } from '../lib/timeline-layout.js';
import { useWidth } from '../use-width.js';

const ROW_H = 16;
const BAR_H = 12;
const LANE_PAD = 6;
const AXIS_H = 22;

/**
 * One lane per agent, each tool call a bar from its start to its end (or to now while it runs):
 * who did what, when, in parallel or waiting — the picture a log cannot give.
 */
export const Timeline = memo(function Timeline({ state, now }: TimelineProps): ReactNode {
  const [ref, width] = useWidth<HTMLDivElement>(640);
  const layout = layoutTimeline(state, now, Math.max(3, Math.floor(width / 110)));
  const labelW = Math.min(170, Math.max(96, Math.round(width * 0.22)));
  const plotW = Math.max(50, width - labelW - 8);
  const x = (t: number) => labelW + ((t - layout.start) / (layout.end - layout.start)) * plotW;
  let y = AXIS_H;
  const lanes = layout.lanes.map((lane) => {
    const top = y;
    const h = lane.rows * ROW_H + LANE_PAD * 2;
    y += h;
    return { lane, top, h };
  });
  const height = Math.max(y, AXIS_H + 40);
  const running = state.endedAt === undefined;

  return (
    <div className="timeline" ref={ref}>
      <svg
        width={width}
        height={height}
        role="img"
        aria-label={`Timeline of ${layout.lanes.length} agents and ${state.toolOrder.length} tool calls`}
      >
        {layout.ticks.map((t) => (
          <g key={t} className="tick">
            <line x1={x(t)} x2={x(t)} y1={AXIS_H - 4} y2={height} />
            {/* A label too close to the right edge would be cut; its line alone still marks time. */}
            {x(t) < width - 44 && (
              <text x={x(t) + 3} y={12}>
                {t === layout.start ? '0' : `+${formatDuration(t - layout.start)}`}
              </text>
            )}
          </g>
        ))}
        {lanes.map(({ lane, top, h }, i) => (
          <g key={lane.id || '(task)'} className={`lane${i % 2 ? ' lane-odd' : ''}`} data-agent={lane.id}>
            <rect className="lane-bg" x={0} y={top} width={width} height={h} />
            <text className="lane-label" x={6} y={top + h / 2 + (lane.sublabel ? -2 : 4)}>
              {lane.label}
            </text>
            {lane.sublabel && (
              <text className="lane-sublabel" x={6} y={top + h / 2 + 11}>
                {lane.sublabel.length > 22 ? `${lane.sublabel.slice(0, 21)}…` : lane.sublabel}
              </text>
            )}
            {lane.span && (
              <rect
                className={`agent-span agent-span-${lane.status}`}
                x={x(lane.span.start)}
                y={top + 2}
                width={Math.max(1, x(lane.span.end) - x(lane.span.start))}
                height={h - 4}
                rx={3}
              >
                <title>{`${lane.label}: ${lane.status}`}</title>
              </rect>
            )}
            {lane.bars.map((bar) => {
              const bx = x(bar.start);
              const bw = Math.max(3, x(bar.end) - bx);
              return (
                <g
                  key={bar.callId}
                  className={`tool-bar tool-${bar.status}`}
                  data-tool={bar.tool}
                  data-call-id={bar.callId}
                >
                  <rect
                    x={bx}
                    y={top + LANE_PAD + bar.row * ROW_H + (ROW_H - BAR_H) / 2}
                    width={bw}
                    height={BAR_H}
                    rx={2}
                  >
                    <title>{`${bar.tool} — ${bar.status}, ${formatDuration(bar.end - bar.start)}`}</title>
                  </rect>
                  {bw > bar.tool.length * 6.2 + 8 && (
                    <text x={bx + 4} y={top + LANE_PAD + bar.row * ROW_H + ROW_H / 2 + 4}>
                      {bar.tool}
                    </text>
                  )}
                </g>
              );
            })}
          </g>
        ))}
        {running && (
          <line
            className="now-line"
            x1={x(Math.min(now, layout.end))}
            x2={x(Math.min(now, layout.end))}
            y1={AXIS_H - 4}
            y2={height}
          />
        )}
        <line className="label-rule" x1={labelW - 4} x2={labelW - 4} y1={AXIS_H - 4} y2={height} />
      </svg>
      {layout.lanes.length === 0 && <p className="muted timeline-empty">No agents yet.</p>}
    </div>
  );
}, sameTimeline);

interface TimelineProps {
  state: TaskState;
  now: number;
}

/**
 * Whether the timeline would draw the same: it reads only the agents, the tool calls and the
 * task's start and end. A streamed answer replaces the task state on every token and changes none
 * of these (the reducer keeps unchanged branches by reference), so the timeline sits those out.
 */
function sameTimeline(a: TimelineProps, b: TimelineProps): boolean {
  return (
    a.now === b.now &&
    a.state.tools === b.state.tools &&
    a.state.toolOrder === b.state.toolOrder &&
    a.state.agents === b.state.agents &&
    a.state.agentOrder === b.state.agentOrder &&
    a.state.startedAt === b.state.startedAt &&
    a.state.createdAt === b.state.createdAt &&
    a.state.endedAt === b.state.endedAt
  );
}
