/** The message of anything thrown, for error texts and logs. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A connection URL fit for an error message: its password, if any, replaced by stars. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
