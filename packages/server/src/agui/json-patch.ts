import type { AgUiJsonPatchOp } from '@agentwire/protocol';

/**
 * The JSON Patch (RFC 6902) that turns `from` into `to`, both JSON values. The task reducer shares
 * unchanged branches between states, so whole subtrees are skipped by reference and a token delta
 * (which changes only the messages, not in the AG-UI state) costs a few comparisons. Arrays that
 * grew at the end, or dropped from the front and grew (the log window), patch item by item;
 * any other change to an array replaces it.
 */
export function diff(from: unknown, to: unknown, path = ''): AgUiJsonPatchOp[] {
  const ops: AgUiJsonPatchOp[] = [];
  walk(from, to, path, ops);
  return ops;
}

function walk(a: unknown, b: unknown, path: string, ops: AgUiJsonPatchOp[]): void {
  if (a === b) return;
  if (Array.isArray(a) && Array.isArray(b)) {
    diffArrays(a, b, path, ops);
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const key of Object.keys(a)) {
      if (!Object.prototype.hasOwnProperty.call(b, key))
        ops.push({ op: 'remove', path: `${path}/${escape(key)}` });
    }
    for (const [key, value] of Object.entries(b)) {
      const at = `${path}/${escape(key)}`;
      if (!Object.prototype.hasOwnProperty.call(a, key)) ops.push({ op: 'add', path: at, value });
      else walk(a[key], value, at, ops);
    }
    return;
  }
  ops.push({ op: 'replace', path, value: b });
}

function diffArrays(a: unknown[], b: unknown[], path: string, ops: AgUiJsonPatchOp[]): void {
  // How many leading items of `a` were dropped: the smallest shift after which `a`'s rest is a
  // prefix of `b` (0 for an array that only grew). Bounded, so a rewritten array stays linear.
  // Something of `a` must remain: dropping it all is a replacement, said shorter as one.
  const maxShift = Math.min(a.length - 1, 8);
  for (let shift = 0; shift <= Math.max(0, maxShift); shift++) {
    const kept = a.length - shift;
    if (kept > b.length || (kept === 0 && a.length > 0)) continue;
    let same = true;
    for (let i = 0; i < kept && same; i++) same = equal(a[shift + i], b[i]);
    if (!same) continue;
    for (let i = 0; i < shift; i++) ops.push({ op: 'remove', path: `${path}/0` });
    for (let i = kept; i < b.length; i++) ops.push({ op: 'add', path: `${path}/-`, value: b[i] });
    return;
  }
  if (a.length === b.length) {
    for (let i = 0; i < a.length; i++) walk(a[i], b[i], `${path}/${i}`, ops);
    return;
  }
  ops.push({ op: 'replace', path, value: b });
}

/** Structural equality of JSON values, by reference first. */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => equal(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equal(a[k], b[k]))
    );
  }
  return false;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON Pointer escaping (RFC 6901). */
function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
