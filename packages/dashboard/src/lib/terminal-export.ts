import type { TerminalLine } from './terminal-line.js';

export type ExportFormat = 'json' | 'csv' | 'txt';

const iso = (time: number) => new Date(time).toISOString();

/** RFC 4180: quote every field that needs it, double the quotes inside. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * The lines as a file. JSON holds the events exactly as the history API returns them (so a
 * download can be replayed or diffed against `GET /v1/streams/{stream}/events`); CSV and TXT hold
 * the terminal's own rendering, one event per line.
 */
export function exportLines(
  lines: readonly TerminalLine[],
  format: ExportFormat,
  agentName: (id: string) => string = (id) => id,
): string {
  if (format === 'json')
    return `${JSON.stringify(
      lines.map((l) => l.event),
      null,
      2,
    )}\n`;
  if (format === 'csv') {
    const rows = lines.map((l) =>
      [String(l.seq), iso(l.time), l.type, l.level, l.agentId ? agentName(l.agentId) : '', l.text]
        .map(csvField)
        .join(','),
    );
    return `seq,time,type,level,agent,message\r\n${rows.join('\r\n')}${rows.length ? '\r\n' : ''}`;
  }
  return lines
    .map(
      (l) =>
        `${iso(l.time)} #${l.seq} ${l.level.toUpperCase().padEnd(5)} ${l.type}${l.agentId ? ` [${agentName(l.agentId)}]` : ''} ${l.text.replace(/\r?\n/g, ' ')}\n`,
    )
    .join('');
}

export const mimeTypes: Record<ExportFormat, string> = {
  json: 'application/json',
  csv: 'text/csv',
  txt: 'text/plain',
};
