import { useAgentwireClient } from '@agentwire/react';
import { useState, type FormEvent, type ReactNode } from 'react';
import { describeError, startTask } from '../commands.js';
import { navigate, taskPath } from '../router.js';

/**
 * Starts a task: a `start` command for a worker of the chosen kind, then the new task's own view,
 * where it can be watched, answered and cancelled like any other.
 */
export function NewTaskView(): ReactNode {
  const client = useAgentwireClient();
  const [prompt, setPrompt] = useState('');
  const [kind, setKind] = useState('agent');
  const [project, setProject] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (busy || !prompt.trim() || !kind.trim()) return;
    setBusy(true);
    setError(undefined);
    startTask(client, {
      prompt: prompt.trim(),
      kind: kind.trim(),
      projectId: project.trim() || undefined,
    }).then(
      ({ taskId }) => navigate(taskPath(taskId)),
      (err: unknown) => {
        setBusy(false);
        setError(describeError(err));
      },
    );
  };

  return (
    <section className="page new-task" aria-labelledby="new-task-title">
      <div className="page-head">
        <h1 id="new-task-title">New task</h1>
      </div>
      <form className="panel new-task-form" onSubmit={submit}>
        <label className="field" htmlFor="new-task-prompt">
          <span>What should the agents do?</span>
          <textarea
            id="new-task-prompt"
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
            placeholder="e.g. Compare three ways to cache our API responses"
            rows={4}
            maxLength={20_000}
            required
            autoFocus
          />
        </label>
        <div className="row new-task-options">
          <label className="field" htmlFor="new-task-kind">
            <span>Kind</span>
            <input
              id="new-task-kind"
              type="text"
              value={kind}
              onChange={(e) => setKind(e.target.value)}
              maxLength={128}
              required
              aria-describedby="new-task-kind-hint"
            />
          </label>
          <label className="field" htmlFor="new-task-project">
            <span>Project (optional)</span>
            <input
              id="new-task-project"
              type="text"
              value={project}
              onChange={(e) => setProject(e.target.value)}
              maxLength={128}
              placeholder="e.g. acme-research"
            />
          </label>
        </div>
        <p id="new-task-kind-hint" className="muted hint">
          A worker connected for this kind runs the task. <code>agentwire demo</code> (what{' '}
          <code>npm start</code> runs) takes agent, request, research, analysis and engineering.
        </p>
        <div className="row">
          <button type="submit" className="primary" disabled={busy || !prompt.trim() || !kind.trim()}>
            {busy ? 'Starting…' : 'Start task'}
          </button>
        </div>
        {error && (
          <p className="notice notice-bad" role="alert">
            Could not start the task: {error}
          </p>
        )}
      </form>
    </section>
  );
}
