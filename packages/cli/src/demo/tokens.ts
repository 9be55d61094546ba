import type { Pace } from './pace.js';
import { between } from './random.js';

/**
 * Splits text the way a model streams it: words with their leading space, long words in two
 * pieces, so a watcher sees the ragged rhythm of real token streams.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const word of text.match(/\s*\S+/g) ?? []) {
    if (word.trim().length > 8) {
      const cut = Math.ceil(word.length / 2);
      out.push(word.slice(0, cut), word.slice(cut));
    } else {
      out.push(word);
    }
  }
  return out;
}

/** Yields `text` token by token at a model's pace (tens of milliseconds per token). */
export async function* typeOut(text: string, pace: Pace): AsyncGenerator<string> {
  for (const token of tokenize(text)) {
    await pace.sleep(between(15, 60));
    yield token;
  }
}
