import { clip, errorText } from './errors.js';

/** The largest tool argument or result published as is, in JSON characters. */
export const MAX_VALUE_CHARS = 256 * 1024;
const PREVIEW_CHARS = 2_000;

/** What watchers are shown of a value that is too large, or not JSON at all. */
export interface OmittedValue {
  omitted: 'too large' | 'not JSON';
  chars?: number;
  preview?: string;
  error?: string;
}

/**
 * A tool's arguments or result as published: the value itself when it is JSON of at most
 * `MAX_VALUE_CHARS`, else a note with a preview. A gateway refuses an event larger than its body
 * limit, and a refused result would leave the call shown as running forever.
 */
export function publishable(value: unknown): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return { omitted: 'not JSON', error: clip(errorText(err), PREVIEW_CHARS) } satisfies OmittedValue;
  }
  if (json === undefined || json.length <= MAX_VALUE_CHARS) return value;
  return {
    omitted: 'too large',
    chars: json.length,
    preview: clip(json, PREVIEW_CHARS),
  } satisfies OmittedValue;
}
