/**
 * Markdown helpers for the generated documents. Tables are padded exactly as Prettier pads them, so
 * a generated file passes `prettier --check` unchanged and the docs test can compare it byte for byte.
 */

/** Prettier's minimum column width. */
const MIN_WIDTH = 3;

function width(text: string): number {
  for (const ch of text) {
    // Prettier counts wide characters (CJK, emoji) double; none belong in these tables, and refusing
    // them keeps the width a plain length (everything below U+2E80 here is one UTF-16 unit wide).
    if (ch.codePointAt(0)! >= 0x2e80)
      throw new Error(`Wide character ${JSON.stringify(ch)} in a table cell.`);
  }
  return text.length;
}

/** Makes text safe inside a table cell: a pipe would end the cell, a newline the row. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** Inline code inside a table cell. */
export function code(text: string): string {
  return `\`${cell(text)}\``;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(MIN_WIDTH, width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}
