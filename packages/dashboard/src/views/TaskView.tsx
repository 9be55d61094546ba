import { useCallback, useMemo, type KeyboardEvent, type ReactNode } from 'react';
import {
  isTerminal,
  openQuestions,
  taskStream,
  type AgentState,
  type TaskState,
  type ToolCallState,
} from '@agentwire/protocol';
import { useAgentwireClient, useTask } from '@agentwire/react';
import { answerQuestion, cancelTask, sendMessage } from '../commands.js';
import { AgentCard } from '../components/AgentCard.js';
import { MessageList } from '../components/MessageList.js';
import { CancelButton, SendMessage } from '../components/OperatorControls.js';
import { Presence } from '../components/Presence.js';
import { ProgressBar } from '../components/ProgressBar.js';
import { QuestionForm } from '../components/QuestionForm.js';
import { StatusPill } from '../components/StatusPill.js';
import { Terminal } from '../components/Terminal.js';
import { Timeline } from '../components/Timeline.js';
import { formatDuration } from '../lib/format.js';
import { taskTiming } from '../lib/progress.js';
import { Link, navigate, projectPath, taskPath } from '../router.js';
import { useNow } from '../use-now.js';

export function TaskView({ taskId, tab }: { taskId: string; tab: 'overview' | 'terminal' }): ReactNode {
  const stream = taskStream(taskId);
  const client = useAgentwireClient();
  const { state, phase, error, subscription } = useTask(stream);
  const ended = state ? isTerminal(state) : false;
  const now = useNow(1_000, !ended);

  const onCancel = useCallback(() => cancelTask(client, stream), [client, stream]);
  const onSend = useCallback((text: string) => sendMessage(client, stream, text), [client, stream]);

  if (phase === 'error') {
    return (
      <section className="page">
        <p className="notice notice-bad" role="alert">
          Cannot follow {stream}: {error?.message ?? 'refused by the gateway'}
        </p>
        <Link to="/">← All tasks</Link>
      </section>
    );
  }
  if (!state) {
    return (
      <section className="page">
        <Link to="/" className="back">
          ← All tasks
        </Link>
        <p className="muted">
          {phase === 'loading'
            ? `Loading ${stream}…`
            : `No events in ${stream} yet; waiting for the first one…`}
        </p>
      </section>
    );
  }

  const timing = taskTiming(state, now);
  const onTabKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    e.preventDefault();
    const next = tab === 'overview' ? 'terminal' : 'overview';
    navigate(taskPath(taskId, next), { replace: true });
    // Keep focus on the active tab, as a tablist should.
    requestAnimationFrame(() => document.getElementById(`tab-${next}`)?.focus());
  };

  return (
    <section className="page task-view" aria-labelledby="task-title" data-task-status={state.status}>
      <Link to="/" className="back">
        ← All tasks
      </Link>
      <header className="task-head">
        <div className="task-head-title">
          <h1 id="task-title">{state.title || taskId}</h1>
          <StatusPill status={state.status} />
        </div>
        <div className="task-head-meta muted">
          {state.projectId && (
            <Link to={projectPath(state.projectId)} title="The project's live view">
              project {state.projectId}
            </Link>
          )}
          {state.kind && <span>{state.kind}</span>}
          <span className="mono" title="Stream">
            {stream}
          </span>
          <Presence stream={stream} />
        </div>
        <CancelButton onCancel={onCancel} disabled={ended} />
      </header>

      <div className="task-progress">
        <ProgressBar percent={timing.percent} label="Task progress" status={state.status} />
        <div className="task-progress-meta">
          <span>
            <strong>{timing.percent !== undefined ? `${Math.round(timing.percent)}%` : '–'}</strong>
            {state.progress?.message && <span className="muted"> · {state.progress.message}</span>}
          </span>
          <span>
            elapsed <strong>{formatDuration(timing.elapsedMs ?? 0)}</strong>
            {timing.remainingMs !== undefined && (
              <>
                {' '}
                · about <strong>{formatDuration(timing.remainingMs)}</strong> left
              </>
            )}
          </span>
        </div>
        {state.stages && state.stages.length > 0 && (
          <Stages stages={state.stages} current={state.stage} done={state.status === 'completed'} />
        )}
        <Outcome state={state} />
      </div>

      <div className="tabs" role="tablist" aria-label="Task views" onKeyDown={onTabKey}>
        <Link
          id="tab-overview"
          role="tab"
          aria-selected={tab === 'overview'}
          tabIndex={tab === 'overview' ? 0 : -1}
          to={taskPath(taskId)}
          aria-controls="task-panel"
        >
          Overview
        </Link>
        <Link
          id="tab-terminal"
          role="tab"
          aria-selected={tab === 'terminal'}
          tabIndex={tab === 'terminal' ? 0 : -1}
          to={taskPath(taskId, 'terminal')}
          aria-controls="task-panel"
        >
          Terminal
        </Link>
      </div>
      <div id="task-panel" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {tab === 'terminal' ? (
          <Terminal stream={stream} sub={subscription} state={state} />
        ) : (
          <Overview state={state} now={now} stream={stream} ended={ended} onSend={onSend} />
        )}
      </div>
    </section>
  );
}

function Overview({
  state,
  now,
  stream,
  ended,
  onSend,
}: {
  state: TaskState;
  now: number;
  stream: string;
  ended: boolean;
  onSend: (text: string) => Promise<unknown>;
}): ReactNode {
  const client = useAgentwireClient();
  const questions = openQuestions(state);
  // The open call of each agent, and how many calls it made: cards show "calling X" live.
  const { current, counts } = useMemo(() => {
    const current = new Map<string, ToolCallState>();
    const counts = new Map<string, number>();
    for (const id of state.toolOrder) {
      const t = state.tools[id];
      if (!t?.agentId) continue;
      counts.set(t.agentId, (counts.get(t.agentId) ?? 0) + 1);
      if (t.status === 'running') current.set(t.agentId, t);
    }
    return { current, counts };
  }, [state.tools, state.toolOrder]);

  return (
    <div className="overview">
      <div className="overview-main">
        {questions.length > 0 && (
          <section className="panel panel-attention" aria-labelledby="questions-title">
            <h2 id="questions-title">Waiting for you</h2>
            {questions.map((q) => (
              <QuestionForm
                key={q.questionId}
                question={q}
                askedBy={q.agentId ? state.agents[q.agentId]?.name : undefined}
                onAnswer={(answer) => answerQuestion(client, stream, q.questionId, answer)}
                now={now}
              />
            ))}
          </section>
        )}
        <section className="panel" aria-labelledby="agents-title">
          <h2 id="agents-title">
            Agents <span className="muted">{state.agentOrder.length}</span>
          </h2>
          <div className="agent-grid">
            {state.agentOrder.map((id) => {
              const a = state.agents[id];
              if (!a) return null;
              return (
                <AgentCard
                  key={id}
                  agent={withNames(a, state.agents)}
                  parentName={a.parentId ? state.agents[a.parentId]?.name : undefined}
                  currentTool={current.get(id)}
                  toolCount={counts.get(id) ?? 0}
                  now={a.status === 'running' ? now : 0}
                />
              );
            })}
            {state.agentOrder.length === 0 && <p className="muted">No agents yet.</p>}
          </div>
        </section>
        <section className="panel" aria-labelledby="timeline-title">
          <h2 id="timeline-title">
            Timeline <span className="muted">{state.toolOrder.length} tool calls</span>
          </h2>
          <Timeline state={state} now={ended ? (state.endedAt ?? now) : now} />
        </section>
      </div>
      <aside className="overview-side">
        <section className="panel" aria-labelledby="messages-title">
          <h2 id="messages-title">Messages</h2>
          <MessageList messages={state.messages} order={state.messageOrder} agents={state.agents} />
          <SendMessage onSend={onSend} disabled={ended} />
        </section>
      </aside>
    </div>
  );
}

function Stages({
  stages,
  current,
  done,
}: {
  stages: string[];
  current: string | undefined;
  done: boolean;
}): ReactNode {
  const at = current === undefined ? -1 : stages.indexOf(current);
  return (
    <ol className="stages" aria-label="Stages">
      {stages.map((s, i) => {
        const state = done || i < at ? 'done' : i === at ? 'current' : 'todo';
        return (
          <li
            key={s}
            className={`stage stage-${state}`}
            aria-current={state === 'current' ? 'step' : undefined}
          >
            {s}
          </li>
        );
      })}
    </ol>
  );
}

function Outcome({ state }: { state: TaskState }): ReactNode {
  if (state.status === 'completed' && state.summary)
    return <p className="notice notice-ok">{state.summary}</p>;
  if (state.status === 'failed')
    return (
      <p className="notice notice-bad">
        Failed{state.failureReason ? ` (${state.failureReason})` : ''}:{' '}
        {state.error?.message ?? 'unknown error'}
      </p>
    );
  if (state.status === 'cancelled')
    return (
      <p className="notice notice-warn">
        Cancelled{state.cancelledBy ? ` by ${state.cancelledBy}` : ''}
        {state.cancelReason ? `: ${state.cancelReason}` : ''}
      </p>
    );
  return null;
}

/** The reducer's handoff activity names the receiving agent by id; people know it by name. */
function withNames(agent: AgentState, agents: TaskState['agents']): AgentState {
  const to = /^handed off to (.+)$/.exec(agent.activity ?? '')?.[1];
  const name = to === undefined ? undefined : agents[to]?.name;
  return name === undefined ? agent : { ...agent, activity: `handed off to ${name}` };
}
