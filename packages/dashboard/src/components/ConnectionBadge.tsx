import { useEffect, useState, type ReactNode } from 'react';
import { useConnectionStatus } from '@agentwire/react';

interface Look {
  label: string;
  tone: 'ok' | 'info' | 'warn' | 'bad' | 'muted';
  hint: string;
}

// Keyed by the status string, not the SDK's current union: fallback transports (`sse`, `polling`)
// appear here the day the client reports them, without a dashboard change.
const looks: Record<string, Look> = {
  websocket: { label: 'WebSocket', tone: 'ok', hint: 'Real-time: events arrive as they happen.' },
  sse: { label: 'SSE', tone: 'info', hint: 'Server-Sent Events: real-time, commands over HTTP.' },
  polling: { label: 'Polling', tone: 'warn', hint: 'Long-polling: updates may lag slightly.' },
  connecting: { label: 'Connecting…', tone: 'muted', hint: 'Opening a connection to the gateway.' },
  offline: {
    label: 'Reconnecting…',
    tone: 'warn',
    hint: 'The connection dropped; retrying. Nothing will be missed.',
  },
  closed: { label: 'Disconnected', tone: 'bad', hint: 'The connection was closed; reload to try again.' },
};

function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);
  return online;
}

/** How the page is connected to the gateway, at a glance; the hint tells what that means. */
export function ConnectionBadge(): ReactNode {
  const status = useConnectionStatus();
  const online = useOnline();
  const look: Look =
    !online && status !== 'websocket'
      ? { label: 'Offline', tone: 'bad', hint: 'This device has no network; reconnecting when it returns.' }
      : (looks[status] ?? { label: status, tone: 'muted', hint: '' });
  return (
    <span
      className={`badge badge-${look.tone}`}
      title={look.hint}
      role="status"
      aria-live="polite"
      data-status={status}
    >
      <span className="dot" aria-hidden="true" />
      {look.label}
    </span>
  );
}
