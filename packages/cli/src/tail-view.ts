import type { AnyEnvelope, TaskState } from '@agentwire/protocol';
import pc from 'picocolors';
import type { EventFormatter } from './format.js';

/**
 * What `agentwire tail` prints: a line per event, except streamed answers, which grow as one line
 * per message: the head when the message starts, then each token appended where the line ends,
 * then the line break when it ends. Appending (never redrawing) keeps it smooth at any token rate,
 * in a terminal as in a pipe or a file. Another event arriving mid-answer breaks the line; the
 * answer's next token continues it on a line of its own, marked `…`.
 */
export class TailView {
  /** The message whose line is being written (no line break yet), if any. */
  #open: string | undefined;
  /** Messages already shown in part, whose next line continues them rather than repeating them. */
  readonly #continued = new Set<string>();

  constructor(
    private readonly formatter: EventFormatter,
    private readonly write: (text: string) => void,
  ) {}

  /** Shows `e`, with `state` the task as it is after `e`. */
  event(e: AnyEnvelope, state: TaskState | undefined): void {
    switch (e.type) {
      case 'message:start': {
        this.#break();
        this.write(this.formatter.answerHead(e, state, e.data.agentId));
        this.#open = e.data.messageId;
        return;
      }
      case 'message:delta': {
        if (this.#open === e.data.messageId) {
          this.write(clean(e.data.delta));
          return;
        }
        // The line was broken by another event, or the tail joined mid-answer: continue it on a
        // line of its own, from the text so far when this is the first we see of the message.
        this.#break();
        const m = state?.messages[e.data.messageId];
        const seen = this.#continued.has(e.data.messageId);
        const text = seen || !m ? e.data.delta : m.text;
        this.write(`${this.formatter.answerHead(e, state, m?.agentId)}${pc.dim('…')}${clean(text)}`);
        this.#continued.add(e.data.messageId);
        this.#open = e.data.messageId;
        return;
      }
      case 'message:end': {
        this.#continued.delete(e.data.messageId);
        if (this.#open === e.data.messageId) {
          this.write('\n');
          this.#open = undefined;
          return;
        }
        // Nothing of it was shown (a late join after its last token): the whole answer at once.
        this.#break();
        const m = state?.messages[e.data.messageId];
        this.write(`${this.formatter.answerHead(e, state, m?.agentId)}${clean(m?.text ?? '')}\n`);
        return;
      }
    }
    const line = this.formatter.format(e, state);
    if (line) this.line(line);
  }

  /** A line of its own (a status line, a notice), after the answer being written if any. */
  line(text: string): void {
    this.#break();
    this.write(`${text}\n`);
  }

  /** Ends the open answer's line, as when the tail stops. */
  close(): void {
    this.#break();
  }

  #break(): void {
    if (this.#open === undefined) return;
    this.#continued.add(this.#open);
    this.write('\n');
    this.#open = undefined;
  }
}

/**
 * A token as it may be printed inside one line: line breaks become a visible mark, and control
 * characters (an agent's text could carry escape sequences that move the cursor or retitle the
 * terminal) are dropped.
 */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r?\n/g, ' ⏎ ').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}
