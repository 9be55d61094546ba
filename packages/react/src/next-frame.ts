/**
 * Notifications coalesced to one per animation frame: a burst of events (a streamed answer, a
 * catch-up after a reconnect, several tasks at once) costs one render, not one per event. Outside
 * a browser a 16 ms timer stands in for the frame.
 */
const schedule: (fn: () => void) => void =
  typeof requestAnimationFrame === 'function'
    ? (fn) => requestAnimationFrame(fn)
    : (fn) => setTimeout(fn, 16);

/** Wraps a `useSyncExternalStore` subscribe so its listener runs at most once per frame. */
export function perFrame(
  subscribe: (onChange: () => void) => () => void,
): (onChange: () => void) => () => void {
  return (onChange) => {
    let pending = false;
    let live = true;
    const flush = () => {
      pending = false;
      if (live) onChange();
    };
    const off = subscribe(() => {
      if (pending) return;
      pending = true;
      schedule(flush);
    });
    return () => {
      live = false;
      off();
    };
  };
}
