import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Static } from '@sinclair/typebox';
import { AgentwireError } from './errors.js';
import {
  ErrorAnswerSchema,
  HistoryPageSchema,
  PollAnswerSchema,
  ReadinessAnswerSchema,
  StatsAnswerSchema,
  TaskAnswerSchema,
  TaskCreatedSchema,
  TaskListPageSchema,
  TaskSummarySchema,
  type ErrorAnswer,
  type HistoryPage,
  type PollAnswer,
  type ReadinessAnswer,
  type TaskAnswer,
  type TaskListPage,
} from './http-answers.js';
import { reduceTaskEvents } from './reducer.js';
import { summarize, type TaskSummary } from './task-list.js';
import { httpAnswerIssue } from './validate.js';

// The hand-written answer types (precise about envelopes and task states) stay within their
// schemas, and the task list row is exactly its schema: a field added to one and not the other
// fails the build.
type Within<A extends B, B> = A;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export type AnswerTypesWithinSchemas = [
  Within<ErrorAnswer, Static<typeof ErrorAnswerSchema>>,
  Within<HistoryPage, Static<typeof HistoryPageSchema>>,
  Within<PollAnswer, Static<typeof PollAnswerSchema>>,
  Within<TaskListPage, Static<typeof TaskListPageSchema>>,
  Within<TaskAnswer, Static<typeof TaskAnswerSchema>>,
  Within<ReadinessAnswer, Static<typeof ReadinessAnswerSchema>>,
];
export const taskSummaryIsItsSchema: Same<TaskSummary, Static<typeof TaskSummarySchema>> = true;

const envelope = { stream: 'task:1', seq: 1, epoch: 'e1', id: 'a', type: 'log:entry', time: 1, data: {} };

describe('HTTP answer schemas', () => {
  it('accept what the gateway answers', () => {
    const state = reduceTaskEvents([
      { ...envelope, type: 'task:start', data: { taskId: '1', title: 'T' } },
    ] as Parameters<typeof reduceTaskEvents>[0]);
    assert.ok(state);
    assert.equal(httpAnswerIssue(TaskAnswerSchema, { seq: 1, state }), undefined);
    assert.equal(
      httpAnswerIssue(TaskListPageSchema, { tasks: [summarize(state)], total: 1, offset: 0, etag: 'x' }),
      undefined,
    );
    assert.equal(
      httpAnswerIssue(PollAnswerSchema, {
        stream: 'task:1',
        epoch: 'e1',
        head: 1,
        recovered: false,
        snapshot: { seq: 1, state: null },
        events: [envelope],
      }),
      undefined,
    );
    assert.equal(
      httpAnswerIssue(ErrorAnswerSchema, { error: new AgentwireError('not_found').toJSON() }),
      undefined,
    );
    assert.equal(httpAnswerIssue(TaskCreatedSchema, { taskId: '1', stream: 'task:1', seq: 1 }), undefined);
    assert.equal(
      httpAnswerIssue(StatsAnswerSchema, {
        uptimeMs: 5,
        engine: 'memory',
        connections: 0,
        subscriptions: 0,
        streams: 0,
        publishedEvents: 0,
        deliveredEvents: 0,
        memory: 1,
        sseConnections: 0,
        pendingPolls: 0,
        aguiConnections: 0,
        socketioConnections: 0,
        swarmTerminalConnections: 0,
        taskList: { indexed: 0, watches: 0 },
        producers: 0,
      }),
      undefined,
    );
  });

  it('name the first thing wrong', () => {
    const page = { stream: 'task:1', epoch: 'e1', head: 1, first: 1 };
    assert.match(
      httpAnswerIssue(HistoryPageSchema, { ...page, events: [{ ...envelope, seq: -1 }] })!,
      /\/events\/0\/seq/,
    );
    assert.match(httpAnswerIssue(HistoryPageSchema, { ...page, events: [], extra: 1 })!, /extra|additional/i);
    assert.match(httpAnswerIssue(TaskCreatedSchema, { taskId: '1', stream: 'not a stream' })!, /\/stream/);
    assert.ok(httpAnswerIssue(ReadinessAnswerSchema, { status: 'ready', checks: { log: { ok: false } } }));
  });
});
