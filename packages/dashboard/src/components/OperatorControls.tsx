import { useState, type FormEvent, type ReactNode } from 'react';
import { describeError } from '../commands.js';

/** Cancel, behind a second click: it cannot be undone, and a stray Enter should not do it. */
export function CancelButton({
  onCancel,
  disabled,
}: {
  onCancel: () => Promise<unknown>;
  disabled: boolean;
}): ReactNode {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  if (disabled) return null;
  const run = () => {
    setBusy(true);
    setError(undefined);
    onCancel().then(
      () => {
        setBusy(false);
        setConfirming(false);
      },
      (err: unknown) => {
        setBusy(false);
        setError(describeError(err));
      },
    );
  };
  return (
    <div className="cancel">
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Cancel task
        </button>
      ) : (
        <span className="row" role="group" aria-label="Confirm cancellation">
          <span>Stop every agent of this task?</span>
          <button type="button" className="danger" onClick={run} disabled={busy} autoFocus>
            {busy ? 'Cancelling…' : 'Yes, cancel'}
          </button>
          <button type="button" onClick={() => setConfirming(false)} disabled={busy}>
            Keep running
          </button>
        </span>
      )}
      {error && (
        <p className="notice notice-bad" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** A message to the task's agents (a `message` command); they see it as a user chat message. */
export function SendMessage({
  onSend,
  disabled,
}: {
  onSend: (text: string) => Promise<unknown>;
  disabled: boolean;
}): ReactNode {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const value = text.trim();
    if (!value || busy) return;
    setBusy(true);
    setError(undefined);
    onSend(value).then(
      () => {
        setBusy(false);
        setText('');
      },
      (err: unknown) => {
        setBusy(false);
        setError(describeError(err));
      },
    );
  };
  return (
    <form className="send-message" onSubmit={submit}>
      <label htmlFor="send-message-text">Message the agents</label>
      <div className="row">
        <input
          id="send-message-text"
          type="text"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={disabled ? 'The task has ended' : 'e.g. focus on cost'}
          disabled={disabled}
          maxLength={20_000}
        />
        <button type="submit" disabled={disabled || busy || !text.trim()}>
          {busy ? 'Sending…' : 'Send'}
        </button>
      </div>
      {error && (
        <p className="notice notice-bad" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
