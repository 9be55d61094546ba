import { useState, type FormEvent, type ReactNode } from 'react';
import type { QuestionState } from '@agentwire/protocol';
import { describeError } from '../commands.js';

/**
 * An agent's open question. Options become radio buttons, otherwise a free-text answer; the
 * answer goes back as an `answer` command and the agent continues once its producer has it.
 */
export function QuestionForm({
  question,
  askedBy,
  onAnswer,
  now,
}: {
  question: QuestionState;
  askedBy: string | undefined;
  onAnswer: (answer: unknown) => Promise<unknown>;
  now: number;
}): ReactNode {
  const options = question.options ?? [];
  const [choice, setChoice] = useState<string>(options[0]?.value ?? '');
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const answer = options.length ? choice : text.trim();
  const left = question.timeoutMs !== undefined ? question.askedAt + question.timeoutMs - now : undefined;
  const formId = `q-${question.questionId}`;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!answer || sending) return;
    setSending(true);
    setError(undefined);
    onAnswer(answer).then(
      () => setSending(false),
      (err: unknown) => {
        setSending(false);
        setError(describeError(err));
      },
    );
  };

  return (
    <form
      className="question"
      onSubmit={submit}
      aria-labelledby={`${formId}-prompt`}
      data-question-id={question.questionId}
    >
      <p id={`${formId}-prompt`} className="question-prompt">
        <strong>{askedBy ?? 'An agent'} asks:</strong> {question.prompt}
      </p>
      {options.length > 0 ? (
        <fieldset>
          <legend className="sr-only">{question.prompt}</legend>
          {options.map((o) => (
            <label key={o.value} className="option">
              <input
                type="radio"
                name={formId}
                value={o.value}
                checked={choice === o.value}
                onChange={() => setChoice(o.value)}
              />
              {o.label ?? o.value}
            </label>
          ))}
        </fieldset>
      ) : (
        <label className="stack">
          <span className="sr-only">Your answer</span>
          <input
            type="text"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="Your answer"
          />
        </label>
      )}
      <div className="row">
        <button type="submit" className="primary" disabled={!answer || sending}>
          {sending ? 'Sending…' : 'Send answer'}
        </button>
        {left !== undefined && left > 0 && (
          <span className="muted">{Math.ceil(left / 1_000)} s before the agent goes on without it</span>
        )}
      </div>
      {error && (
        <p className="notice notice-bad" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
