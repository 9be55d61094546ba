import type { Level, TerminalLine } from './terminal-line.js';

export interface TerminalFilter {
  /** Families to hide (`message`, `tool` …); empty shows all. Hiding rather than picking keeps new families visible. */
  hiddenFamilies: ReadonlySet<string>;
  /** Lowest level shown. */
  minLevel: Level;
  /** Only lines about this agent; undefined for all. */
  agentId: string | undefined;
  /** Case-insensitive substring; empty for all. */
  search: string;
}

const rank: Record<Level, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export const showAll: TerminalFilter = {
  hiddenFamilies: new Set(),
  minLevel: 'trace',
  agentId: undefined,
  search: '',
};

export function isFiltering(f: TerminalFilter): boolean {
  return (
    f.hiddenFamilies.size > 0 || f.minLevel !== 'trace' || f.agentId !== undefined || f.search.trim() !== ''
  );
}

/** The predicate for one filter setting, built once per change and run over every line. */
export function lineMatcher(f: TerminalFilter): (line: TerminalLine) => boolean {
  const needle = f.search.trim().toLowerCase();
  const min = rank[f.minLevel];
  return (line) =>
    rank[line.level] >= min &&
    !f.hiddenFamilies.has(line.family) &&
    (f.agentId === undefined || line.agentId === f.agentId) &&
    (needle === '' || line.haystack.includes(needle));
}
