import { AgentwireError, answerIssue, type Command, type TaskState } from '@agentwire/protocol';

/** What the gateway acknowledges for a command whose effect is an event: where that event landed. */
export interface CommandAck {
  stream: string;
  /** The seq of the effect event (`task:cancelled`, `question:answered`, `chat:message`), when the gateway says. */
  seq?: number;
  [field: string]: unknown;
}

/** The commands a watcher sends about the task it watches. */
export interface TaskCommands {
  /** Cancels the task (or one agent); resolves once the producer confirmed its work stopped. */
  cancel(options?: { reason?: string; agentId?: string }): Promise<CommandAck>;
  /**
   * Answers an open question. Checked here first against the question as this subscription knows
   * it (options, schema, already closed), with the same rules the gateway applies; rejects with
   * `invalid_answer` or `question_closed`.
   */
  answer(questionId: string, answer: unknown): Promise<CommandAck>;
  /** Sends a chat message into the running task. */
  send(text: string): Promise<CommandAck>;
}

/** The three commands for `stream`, sent with `command`; `state` is the subscription's view of the task. */
export function taskCommands(
  stream: string,
  command: (command: Command) => Promise<unknown>,
  state: () => TaskState | undefined,
): TaskCommands {
  const send = async (c: Command): Promise<CommandAck> => asAck(await command(c), stream);
  return {
    cancel: (options = {}) =>
      send({
        type: 'cancel',
        stream,
        ...(options.agentId !== undefined && { agentId: options.agentId }),
        ...(options.reason !== undefined && { reason: options.reason }),
      }),
    answer: async (questionId, answer) => {
      const question = state()?.questions[questionId];
      // A question this view knows is closed cannot reopen; an unknown one may just not have arrived yet.
      if (question && question.status !== 'open') {
        throw new AgentwireError(
          'question_closed',
          `The question ${JSON.stringify(questionId)} is already ${question.status}.`,
        );
      }
      if (question) {
        const issue = answerIssue(question, answer);
        if (issue) {
          throw new AgentwireError(
            'invalid_answer',
            `Invalid answer${issue.path ? ` at ${issue.path}` : ''}: ${issue.message}.`,
            {
              path: issue.path || '/',
            },
          );
        }
      }
      return send({ type: 'answer', stream, questionId, answer });
    },
    send: (text) => send({ type: 'message', stream, text }),
  };
}

// The ack's result comes off the wire: keep what it says, but promise only what was checked.
function asAck(result: unknown, stream: string): CommandAck {
  const fields =
    typeof result === 'object' && result !== null ? { ...(result as Record<string, unknown>) } : {};
  const ack: CommandAck = { ...fields, stream };
  if (typeof fields.seq !== 'number') delete ack.seq;
  return ack;
}
