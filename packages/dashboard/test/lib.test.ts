/** The dashboard's pure parts, in Node: line rendering, filters, exports, timeline layout, rates. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reduceTaskEvents, type AnyEnvelope } from '@agentwire/protocol';
import { IncrementalFilter } from '../src/lib/incremental-filter.js';
import { taskTiming } from '../src/lib/progress.js';
import { intervalQuantile, parsePrometheusText } from '../src/lib/prometheus-text.js';
import { toSample } from '../src/lib/stats-series.js';
import { taskWindow, TASK_WINDOW_STEP } from '../src/lib/task-window.js';
import { exportLines } from '../src/lib/terminal-export.js';
import { isFiltering, lineMatcher, showAll } from '../src/lib/terminal-filter.js';
import { toTerminalLine } from '../src/lib/terminal-line.js';
import { layoutTimeline, tickStep } from '../src/lib/timeline-layout.js';

let seq = 0;
const T0 = 1_700_000_000_000;
function ev(type: string, data: unknown, time = T0 + seq * 100): AnyEnvelope {
  seq++;
  return { stream: 'task:t', seq, epoch: 'e1', id: `id${seq}`, type, time, data } as AnyEnvelope;
}

test('every event becomes one terminal line with a level, an agent and searchable text', () => {
  seq = 0;
  const lines = [
    ev('task:start', { taskId: 't', title: 'Research' }),
    ev('log:entry', { level: 'warn', message: 'slow source', agentId: 'a1', fields: { ms: 900 } }),
    ev('tool:failed', {
      callId: 'c1',
      tool: 'fetch',
      agentId: 'a1',
      error: { message: 'timeout' },
      retryable: true,
    }),
    ev('tool:failed', { callId: 'c2', tool: 'fetch', error: { message: 'gone' } }),
    ev('message:delta', { messageId: 'm', delta: 'tok' }),
    ev('question:asked', { questionId: 'q', prompt: 'Which?' }),
    ev('some:future-type', { x: 1 }),
  ].map(toTerminalLine);
  assert.deepEqual(
    lines.map((l) => [l.level, l.family, l.agentId]),
    [
      ['info', 'task', undefined],
      ['warn', 'log', 'a1'],
      ['warn', 'tool', 'a1'],
      ['error', 'tool', undefined],
      ['trace', 'message', undefined],
      ['warn', 'question', undefined],
      ['info', 'some', undefined],
    ],
  );
  assert.equal(lines[1]!.text, 'slow source {"ms":900}');
  assert.match(lines[2]!.text, /fetch failed: timeout \(will retry\)/);
  assert.ok(lines[1]!.haystack.includes('slow source') && lines[1]!.haystack.includes('log:entry'));
});

test('filters combine level, type family, agent and case-insensitive search', () => {
  seq = 0;
  const lines = [
    ev('log:entry', { level: 'debug', message: 'Detail', agentId: 'a1' }),
    ev('log:entry', { level: 'error', message: 'Broken PIPE', agentId: 'a2' }),
    ev('tool:executing', { callId: 'c', tool: 'search', agentId: 'a1' }),
  ].map(toTerminalLine);
  const pick = (f: Partial<typeof showAll>) =>
    lines.filter(lineMatcher({ ...showAll, ...f })).map((l) => l.seq);
  assert.deepEqual(pick({}), [1, 2, 3]);
  assert.equal(isFiltering(showAll), false);
  assert.deepEqual(pick({ minLevel: 'info' }), [2, 3]);
  assert.deepEqual(pick({ hiddenFamilies: new Set(['tool']) }), [1, 2]);
  assert.deepEqual(pick({ agentId: 'a1' }), [1, 3]);
  assert.deepEqual(pick({ search: 'broken pipe' }), [2]);
  assert.deepEqual(pick({ search: 'SEARCH', agentId: 'a1' }), [3]);
});

test('exports: JSON is the envelopes, CSV is RFC 4180, TXT one line per event', () => {
  seq = 0;
  const events = [
    ev('log:entry', { level: 'info', message: 'a "quoted", comma\nand newline' }),
    ev('task:complete', {}),
  ];
  const lines = events.map(toTerminalLine);
  assert.deepEqual(JSON.parse(exportLines(lines, 'json')), events);
  const csv = exportLines(lines, 'csv');
  assert.ok(csv.startsWith('seq,time,type,level,agent,message\r\n1,'));
  assert.ok(csv.includes('"a ""quoted"", comma\nand newline"'));
  const txt = exportLines(lines, 'txt').split('\n').filter(Boolean);
  assert.equal(txt.length, 2);
  assert.match(txt[0]!, /^\d{4}-\d\d-\d\dT.* #1 INFO {2}log:entry a "quoted", comma and newline$/);
});

test('the incremental filter only tests appended lines, and rescans after a trim or a new predicate', () => {
  let calls = 0;
  const even = (n: number) => (calls++, n % 2 === 0);
  const f = new IncrementalFilter<number>();
  const a = [1, 2, 3, 4];
  assert.deepEqual(f.apply(a, even), [2, 4]);
  assert.equal(calls, 4);
  assert.deepEqual(f.apply([...a, 5, 6], even), [2, 4, 6]);
  assert.equal(calls, 6, 'only the two new items');
  assert.deepEqual(f.apply([3, 4, 5, 6], even), [4, 6], 'trimmed front: rescanned');
  const odd = (n: number) => n % 2 === 1;
  assert.deepEqual(f.apply([3, 4, 5, 6], odd), [3, 5]);
});

test('the timeline has one lane per agent, parallel calls stacked, running calls up to now', () => {
  seq = 0;
  const state = reduceTaskEvents([
    ev('task:start', { taskId: 't', title: 'T' }, T0),
    ev('agent:spawned', { agentId: 'a', name: 'alpha' }, T0 + 100),
    ev('agent:spawned', { agentId: 'b', name: 'beta', model: 'm' }, T0 + 200),
    ev('tool:executing', { callId: 'c1', tool: 'search', agentId: 'a' }, T0 + 1_000),
    ev('tool:executing', { callId: 'c2', tool: 'fetch', agentId: 'a' }, T0 + 1_500),
    ev('tool:complete', { callId: 'c1' }, T0 + 2_000),
    ev('tool:executing', { callId: 'c3', tool: 'lonely' }, T0 + 2_500),
  ])!;
  const layout = layoutTimeline(state, T0 + 5_000);
  assert.deepEqual(
    layout.lanes.map((l) => [l.label, l.rows, l.bars.map((b) => [b.tool, b.row, b.status, b.end - b.start])]),
    [
      [
        'alpha',
        2,
        [
          ['search', 0, 'completed', 1_000],
          ['fetch', 1, 'running', 3_500],
        ],
      ],
      ['beta', 1, []],
      ['task', 1, [['lonely', 0, 'running', 2_500]]],
    ],
  );
  assert.equal(layout.start, T0);
  assert.equal(layout.end, T0 + 5_000);
  assert.equal(tickStep(60_000, 8), 10_000);
  assert.equal(tickStep(5_000, 8), 1_000);
});

test('remaining time comes from progress once there is some, from the estimate before', () => {
  const base = { createdAt: 0, startedAt: 0, status: 'running' as const, estimatedMs: 10_000 };
  assert.equal(taskTiming({ ...base }, 4_000).remainingMs, 6_000);
  assert.equal(taskTiming({ ...base, progress: { percent: 25 } }, 4_000).remainingMs, 12_000);
  assert.equal(taskTiming({ ...base, status: 'completed', endedAt: 9_000 }, 20_000).elapsedMs, 9_000);
  assert.equal(taskTiming({ ...base, status: 'completed', endedAt: 9_000 }, 20_000).remainingMs, undefined);
});

test('chart samples turn counters into rates and treat a counter reset as unknown', () => {
  const scrape = (ingested: number, delivered: number) =>
    parsePrometheusText(
      [
        '# TYPE agentwire_events_ingested_total counter',
        `agentwire_events_ingested_total{path="http"} ${ingested / 2}`,
        `agentwire_events_ingested_total{path="in_process"} ${ingested / 2}`,
        `agentwire_events_delivered_total ${delivered}`,
        'agentwire_connections{transport="websocket"} 2',
        'agentwire_connections{transport="sse"} 1',
      ].join('\n'),
    );
  const first = toSample(undefined, 1_000, scrape(100, 300));
  assert.equal(first.eventsInPerSec, undefined);
  assert.equal(first.connections, 3);
  const second = toSample({ at: 1_000, scrape: scrape(100, 300) }, 3_000, scrape(140, 420));
  assert.equal(second.eventsInPerSec, 20);
  assert.equal(second.eventsOutPerSec, 60);
  const restarted = toSample({ at: 3_000, scrape: scrape(140, 420) }, 4_000, scrape(6, 0));
  assert.equal(restarted.eventsInPerSec, undefined);
});

test('publish-to-deliver quantiles come from the histogram growth between two scrapes', () => {
  const histogram = (counts: [string, number][]) =>
    parsePrometheusText(
      counts.map(([le, n]) => `agentwire_publish_to_deliver_seconds_bucket{le="${le}"} ${n}`).join('\n'),
    );
  const before = histogram([
    ['0.001', 50],
    ['0.01', 50],
    ['0.1', 50],
    ['+Inf', 50],
  ]);
  // 100 new observations: 90 under 1 ms, 9 under 10 ms, 1 under 100 ms.
  const after = histogram([
    ['0.001', 140],
    ['0.01', 149],
    ['0.1', 150],
    ['+Inf', 150],
  ]);
  const sample = toSample({ at: 0, scrape: before }, 1_000, after);
  assert.ok(sample.latencyP50! > 0 && sample.latencyP50! <= 1, `p50 ${sample.latencyP50} ms`);
  assert.ok(sample.latencyP99! > 1 && sample.latencyP99! <= 10 + 1e-9, `p99 ${sample.latencyP99} ms`);
  assert.equal(intervalQuantile(after, after, 'agentwire_publish_to_deliver_seconds', 0.5), undefined);
});

test("a project stream's copy is drawn as the task event it carries, at the project's seq", () => {
  const inner = {
    stream: 'task:t7',
    seq: 12,
    epoch: 'e1',
    id: 'x',
    type: 'log:entry',
    time: T0,
    data: { level: 'warn', message: 'from the task', agentId: 'a1' },
  };
  const copy = {
    stream: 'project:p',
    seq: 40,
    epoch: 'e2',
    id: 'c',
    type: 'project:event',
    time: T0 + 5,
    data: inner,
  };
  const line = toTerminalLine(copy as AnyEnvelope);
  assert.deepEqual(
    [line.seq, line.time, line.type, line.family, line.level, line.taskId, line.agentId, line.text],
    [40, T0, 'log:entry', 'log', 'warn', 't7', 'a1', 'from the task'],
  );
  assert.match(line.haystack, /t7/);
  assert.equal(toTerminalLine(inner as AnyEnvelope).taskId, undefined);
});

test('the task list asks for the rows in view plus a step either side, moving only by steps', () => {
  const step = TASK_WINDOW_STEP;
  assert.deepEqual(taskWindow(0, 30), { offset: 0, limit: 2 * step });
  const a = taskWindow(5000, 5030);
  assert.ok(a.offset <= 5000 && a.offset + a.limit >= 5030);
  assert.equal(a.offset % step, 0);
  // A scroll within the step asks for the same window; past it, the next.
  assert.deepEqual(taskWindow(5001, 5031), a);
  assert.notDeepEqual(taskWindow(5000 + step, 5030 + step), a);
  assert.ok(taskWindow(0, 5000).limit <= 1000, 'never more than the gateway sends');
});
