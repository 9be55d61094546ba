import {
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type KeyboardEvent,
  type ReactNode,
} from 'react';
import type { Subscription } from '@agentwire/client';
import type { TaskState } from '@agentwire/protocol';
import { fetchHistory } from '../api.js';
import { IncrementalFilter } from '../lib/incremental-filter.js';
import { exportLines, mimeTypes, type ExportFormat } from '../lib/terminal-export.js';
import { isFiltering, lineMatcher, type TerminalFilter } from '../lib/terminal-filter.js';
import { LEVELS, type Level, type TerminalLine } from '../lib/terminal-line.js';
import { TerminalStore } from '../lib/terminal-store.js';
import { TerminalRow } from './TerminalRow.js';
import { VirtualList } from './VirtualList.js';

const ROW_H = 22;
const FAMILIES = ['task', 'agent', 'tool', 'message', 'log', 'question', 'memory', 'custom'];

/**
 * The live terminal: every event of the stream as a line. History up to the live position is read
 * over HTTP, the rest arrives on the shared subscription; filters, search and pause never touch
 * the data, only the view; downloads take the lines that pass the filters.
 */
export function Terminal({
  stream,
  sub,
  state,
}: {
  stream: string;
  sub: Subscription | undefined;
  state: TaskState | undefined;
}): ReactNode {
  const store = useMemo(() => new TerminalStore(stream, { fetchHistory }), [stream]);
  useEffect(() => {
    if (!sub) return;
    store.attach(sub);
    return () => store.detach();
  }, [store, sub]);
  const snap = useSyncExternalStore(store.subscribe, store.getSnapshot);

  const [hidden, setHidden] = useState<ReadonlySet<string>>(() => new Set());
  const [minLevel, setMinLevel] = useState<Level>('trace');
  const [agentId, setAgentId] = useState<string | undefined>(undefined);
  const [search, setSearch] = useState('');
  const [follow, setFollow] = useState(true);
  const searchRef = useRef<HTMLInputElement>(null);

  const filter: TerminalFilter = useMemo(
    () => ({ hiddenFamilies: hidden, minLevel, agentId, search }),
    [hidden, minLevel, agentId, search],
  );
  const matcher = useMemo(() => lineMatcher(filter), [filter]);
  const filterer = useMemo(() => new IncrementalFilter<TerminalLine>(), []);
  const visible = filterer.apply(snap.lines, matcher);

  const agentName = (id: string) => state?.agents[id]?.name ?? id;
  const agents = state?.agentOrder ?? [];

  const toggleFamily = (family: string) =>
    setHidden((prev) => {
      const next = new Set(prev);
      if (next.has(family)) next.delete(family);
      else next.add(family);
      return next;
    });

  const download = (format: ExportFormat) => {
    const blob = new Blob([exportLines(visible, format, agentName)], { type: mimeTypes[format] });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${stream.replace(/[^A-Za-z0-9._-]+/g, '_')}.${format}`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  // `/` jumps to the search from anywhere on the page (as in many log viewers), unless typing.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const typing =
        t?.tagName === 'INPUT' ||
        t?.tagName === 'TEXTAREA' ||
        t?.tagName === 'SELECT' ||
        t?.isContentEditable;
      if (e.key !== '/' || typing || e.ctrlKey || e.metaKey || e.altKey) return;
      e.preventDefault();
      searchRef.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const onSearchKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Escape' && search !== '') {
      e.preventDefault();
      setSearch('');
    }
  };

  const renderRow = (i: number) => {
    const l = visible[i];
    if (!l) return null;
    return <TerminalRow line={l} agent={l.agentId ? agentName(l.agentId) : ''} />;
  };

  return (
    <div className="terminal" data-lines={snap.lines.length} data-duplicates={snap.duplicates}>
      <div className="terminal-toolbar" role="toolbar" aria-label="Terminal controls">
        <label className="search">
          <span className="sr-only">Search lines</span>
          <input
            ref={searchRef}
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            onKeyDown={onSearchKey}
            placeholder="Search  ( / )"
          />
        </label>
        <label>
          <span>Level</span>
          <select value={minLevel} onChange={(e) => setMinLevel(e.target.value as Level)}>
            {LEVELS.map((l) => (
              <option key={l} value={l}>
                {l === 'trace' ? 'all' : `${l}+`}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Agent</span>
          <select value={agentId ?? ''} onChange={(e) => setAgentId(e.target.value || undefined)}>
            <option value="">all</option>
            {agents.map((id) => (
              <option key={id} value={id}>
                {agentName(id)}
              </option>
            ))}
          </select>
        </label>
        <div className="chips" role="group" aria-label="Event types">
          {FAMILIES.map((f) => (
            <button
              key={f}
              type="button"
              className="chip"
              aria-pressed={!hidden.has(f)}
              onClick={() => toggleFamily(f)}
            >
              {f}
            </button>
          ))}
        </div>
        <div className="row terminal-actions">
          <button
            type="button"
            className={snap.paused ? 'primary' : ''}
            onClick={() => store.setPaused(!snap.paused)}
            aria-pressed={snap.paused}
          >
            {snap.paused ? `Resume${snap.waiting ? ` (${snap.waiting} waiting)` : ''}` : 'Pause'}
          </button>
          <span className="downloads" role="group" aria-label="Download lines">
            {(['json', 'csv', 'txt'] as const).map((f) => (
              <button
                key={f}
                type="button"
                onClick={() => download(f)}
                title={`Download the ${visible.length} lines shown as ${f.toUpperCase()}`}
              >
                ⤓ {f.toUpperCase()}
              </button>
            ))}
          </span>
        </div>
      </div>
      <div className="terminal-status muted" aria-live="polite">
        <span>
          {isFiltering(filter)
            ? `${visible.length} of ${snap.lines.length} lines`
            : `${snap.lines.length} lines`}
          {snap.paused && ` · paused, ${snap.waiting} waiting`}
          {snap.loading && ' · loading history…'}
        </span>
        {snap.hasOlder && (
          <button
            type="button"
            className="link"
            onClick={() => void store.loadOlder()}
            disabled={snap.loading}
          >
            Load older lines
          </button>
        )}
        {snap.error && <span className="error-text">{snap.error}</span>}
      </div>
      <VirtualList
        className="terminal-lines"
        count={visible.length}
        rowHeight={ROW_H}
        renderRow={renderRow}
        follow={follow}
        onFollowChange={setFollow}
        label={`Events of ${stream}`}
      />
      {!follow && (
        <button type="button" className="jump primary" onClick={() => setFollow(true)}>
          ↓ Jump to latest
        </button>
      )}
    </div>
  );
}
