/** How many times each limit refused something, by error code: what the metrics report. */
export class RefusalTally {
  readonly counts = new Map<string, number>();

  note(code: string): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
  }
}
