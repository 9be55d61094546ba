import { useCallback, useSyncExternalStore } from 'react';

export type Theme = 'dark' | 'light';
const KEY = 'agentwire:theme';
const listeners = new Set<() => void>();

// index.html sets the attribute before the first paint; this only reads and changes it.
const read = (): Theme => (document.documentElement.dataset.theme === 'light' ? 'light' : 'dark');

export function useTheme(): [Theme, (next: Theme) => void] {
  const theme = useSyncExternalStore((l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  }, read);
  const set = useCallback((next: Theme) => {
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // Private mode or storage disabled: the choice lasts for this page only.
    }
    for (const l of [...listeners]) l();
  }, []);
  return [theme, set];
}
