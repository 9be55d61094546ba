import type { AnyEnvelope, TaskState } from '@agentwire/protocol';
import pc from 'picocolors';

const palette = [pc.cyan, pc.magenta, pc.yellow, pc.green, pc.blue, pc.red];
const levelColor: Record<string, (s: string) => string> = {
  trace: pc.gray,
  debug: pc.gray,
  info: pc.blue,
  warn: pc.yellow,
  error: pc.red,
};

function clock(time: number): string {
  return new Date(time).toISOString().slice(11, 23);
}

function short(value: unknown, max = 80): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** Renders events as terminal lines, naming agents as the task state knows them. */
export class EventFormatter {
  private readonly colors = new Map<string, (s: string) => string>();

  agent(state: TaskState | undefined, agentId: string | undefined): string {
    if (!agentId) return pc.dim('task'.padEnd(14));
    const name = state?.agents[agentId]?.name ?? agentId;
    let color = this.colors.get(agentId);
    if (!color) {
      color = palette[this.colors.size % palette.length]!;
      this.colors.set(agentId, color);
    }
    return color(short(name, 14).padEnd(14));
  }

  /** The start of a streamed answer's line, up to where its text goes. */
  answerHead(e: AnyEnvelope, state: TaskState | undefined, agentId: string | undefined): string {
    return `${pc.dim(clock(e.time))} ${pc.dim(`#${e.seq}`.padStart(6))} ${this.agent(state, agentId)} ${pc.white('💬')} `;
  }

  /** One line per event, or undefined for events that only feed other lines (token deltas). */
  format(e: AnyEnvelope, state: TaskState | undefined): string | undefined {
    const head = `${pc.dim(clock(e.time))} ${pc.dim(`#${e.seq}`.padStart(6))}`;
    const line = (agentId: string | undefined, label: string, text: string) =>
      `${head} ${this.agent(state, agentId)} ${label} ${text}`;
    switch (e.type) {
      case 'task:start':
        return line(undefined, pc.bold(pc.green('▶ task')), pc.bold(e.data.title));
      case 'task:progress':
        return line(
          undefined,
          pc.dim('progress'),
          `${e.data.percent !== undefined ? `${Math.round(e.data.percent)}% ` : ''}${e.data.message ?? ''}`,
        );
      case 'task:stage':
        return line(undefined, pc.cyan('stage'), pc.bold(e.data.stage));
      case 'task:complete':
        return line(undefined, pc.bold(pc.green('✔ complete')), short(e.data.summary ?? e.data.result, 120));
      case 'task:failed':
        return line(
          undefined,
          pc.bold(pc.red('✘ failed')),
          `${e.data.reason ?? 'error'}: ${e.data.error.message}`,
        );
      case 'task:cancelled':
        return line(
          e.data.agentId,
          pc.bold(pc.yellow('■ cancelled')),
          `${e.data.by ? `by ${e.data.by} ` : ''}${e.data.reason ?? ''}`,
        );
      case 'agent:spawned':
        return line(
          e.data.agentId,
          pc.green('+ agent'),
          `${e.data.name}${e.data.role ? ` (${e.data.role})` : ''}${e.data.model ? pc.dim(` ${e.data.model}`) : ''}`,
        );
      case 'agent:progress':
        return line(
          e.data.agentId,
          pc.dim('status'),
          `${e.data.status ?? ''}${e.data.activity ? pc.dim(` ${e.data.activity}`) : ''}`,
        );
      case 'agent:complete':
        return line(e.data.agentId, pc.green('✔ agent done'), short(e.data.summary ?? e.data.result));
      case 'agent:failed':
        return line(e.data.agentId, pc.red('✘ agent failed'), e.data.error.message);
      case 'agent:handoff':
        return line(
          e.data.from,
          pc.magenta('→ handoff'),
          `to ${this.agent(state, e.data.to).trim()}${e.data.reason ? pc.dim(` ${e.data.reason}`) : ''}`,
        );
      case 'tool:executing':
        return line(
          e.data.agentId,
          pc.yellow('⚙ tool'),
          `${pc.bold(e.data.tool)} ${pc.dim(short(e.data.args))}${e.data.attempt && e.data.attempt > 1 ? pc.yellow(` attempt ${e.data.attempt}`) : ''}`,
        );
      case 'tool:complete': {
        const call = state?.tools[e.data.callId];
        return line(
          call?.agentId ?? e.data.agentId,
          pc.green('✔ tool'),
          `${pc.bold(call?.tool ?? e.data.tool ?? e.data.callId)} ${pc.dim(seconds(e.data.durationMs))} ${pc.dim(short(e.data.result, 60))}`,
        );
      }
      case 'tool:failed': {
        const call = state?.tools[e.data.callId];
        return line(
          call?.agentId ?? e.data.agentId,
          pc.red('✘ tool'),
          `${pc.bold(call?.tool ?? e.data.tool ?? e.data.callId)} ${e.data.error.message}${e.data.retryable ? pc.dim(' (will retry)') : ''}`,
        );
      }
      case 'message:start':
      case 'message:delta':
        return undefined;
      case 'message:end': {
        const m = state?.messages[e.data.messageId];
        return line(m?.agentId, pc.white('💬'), short(m?.text ?? '', 400));
      }
      case 'chat:message':
        return line(undefined, pc.white('💬 user'), `${e.data.from ? `${e.data.from}: ` : ''}${e.data.text}`);
      case 'memory:recalled':
        return line(
          e.data.agentId,
          pc.blue('◆ memory'),
          `${e.data.memories.length} recalled${e.data.query ? pc.dim(` for "${short(e.data.query, 40)}"`) : ''}`,
        );
      case 'log:entry': {
        const color = levelColor[e.data.level] ?? pc.white;
        const fields = e.data.fields ? pc.dim(` ${short(e.data.fields, 80)}`) : '';
        return line(
          e.data.agentId,
          color(e.data.level.toUpperCase().padEnd(5)),
          `${e.data.message}${fields}`,
        );
      }
      case 'question:asked':
        return line(
          e.data.agentId,
          pc.bold(pc.yellow('? question')),
          `${e.data.prompt}${e.data.options ? pc.dim(` [${e.data.options.map((o) => o.value).join(' | ')}]`) : ''}`,
        );
      case 'question:answered':
        return line(
          undefined,
          pc.yellow('! answer'),
          `${short(e.data.answer)}${e.data.timedOut ? pc.dim(' (timed out, default)') : e.data.by ? pc.dim(` by ${e.data.by}`) : ''}`,
        );
      case 'custom:event':
        return line(undefined, pc.dim(`custom:${e.data.name}`), short(e.data.payload));
      case 'system:health':
        return line(undefined, pc.dim('health'), e.data.status);
      case 'system:performance':
        return line(undefined, pc.dim('perf'), short(e.data.metrics));
      case 'system:alert':
        return line(undefined, pc.red(`alert ${e.data.severity}`), e.data.message);
    }
  }
}

/** The status line shown when a task changes state. */
export function statusLine(state: TaskState): string {
  const agents = Object.values(state.agents);
  const running = agents.filter((a) => a.status === 'running').length;
  const pct = state.progress?.percent;
  const color = {
    pending: pc.dim,
    running: pc.cyan,
    completed: pc.green,
    failed: pc.red,
    cancelled: pc.yellow,
  }[state.status];
  return `${pc.bold(state.title || state.taskId)}  ${color(state.status)}${state.stage ? `  stage ${state.stage}` : ''}${pct !== undefined ? `  ${Math.round(pct)}%` : ''}  agents ${running}/${agents.length}  tools ${state.toolOrder.length}`;
}
