import type { Client } from '@agentwire/client';

/**
 * Every command the dashboard sends, in one place: the SDK's command API is still growing
 * (per-subscription helpers, HTTP fallback), and only this file should need to follow it.
 * Each resolves with the gateway's acknowledgement or rejects with its typed error.
 */
export function cancelTask(
  client: Client,
  stream: string,
  reason = 'cancelled from the dashboard',
): Promise<unknown> {
  return client.command({ type: 'cancel', stream, reason });
}

export function answerQuestion(
  client: Client,
  stream: string,
  questionId: string,
  answer: unknown,
): Promise<unknown> {
  return client.command({ type: 'answer', stream, questionId, answer });
}

export function sendMessage(client: Client, stream: string, text: string): Promise<unknown> {
  return client.command({ type: 'message', stream, text });
}

export interface NewTask {
  prompt: string;
  kind: string;
  projectId?: string | undefined;
}

/**
 * Asks a worker of `kind` to start a task on `prompt` (a `start` command) and resolves with the new
 * task's id once the worker has published its start.
 */
export async function startTask(client: Client, task: NewTask): Promise<{ taskId: string; stream: string }> {
  const title = task.prompt.replace(/\s+/g, ' ').trim().slice(0, 200);
  const result = await client.command({
    type: 'start',
    kind: task.kind,
    title,
    input: { prompt: task.prompt },
    ...(task.projectId && { projectId: task.projectId }),
  });
  const { taskId, stream } = (result ?? {}) as { taskId?: unknown; stream?: unknown };
  if (typeof taskId !== 'string' || typeof stream !== 'string')
    throw new Error(`The gateway started the task but did not say which: ${JSON.stringify(result)}`);
  return { taskId, stream };
}

/** A command failure as one readable sentence. */
export function describeError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const { code, message } = err as { code: string; message: string };
    if (code === 'no_producer')
      return 'No agent is connected to take this command (its producer is gone or does not accept commands).';
    return `${message} (${code})`;
  }
  return err instanceof Error ? err.message : String(err);
}
