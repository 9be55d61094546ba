/**
 * An incremental parser for the `text/event-stream` format, as the WHATWG HTML standard defines
 * it (§9.2.6), for reading Server-Sent Events with `fetch` instead of `EventSource`: Node 20 has no
 * EventSource, and `fetch` lets the same code path send headers (Authorization) everywhere.
 *
 * Feed it decoded text in chunks of any size; a line ending or a field may be split anywhere,
 * including between the CR and LF of a CRLF.
 */

export interface SseMessage {
  /** The `event:` field, `message` when absent. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last event ID seen so far in the stream (it carries over to later messages). */
  lastEventId: string;
}

export class SseParser {
  /** The latest valid `retry:` hint in milliseconds, if the stream sent one. */
  retry: number | undefined;
  lastEventId = '';
  #partial = '';
  /** The previous chunk ended with CR: a LF starting the next one belongs to the same line end. */
  #afterCR = false;
  #started = false;
  #event = '';
  #data: string[] = [];
  /** Stateful (`lastIndex`), hence one per parser. */
  readonly #lineEnd = /[\r\n]/g;

  /** Parses the next piece of the stream; returns the messages it completed, in order. */
  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = chunk;
    if (!this.#started && text !== '') {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a leading BOM is not content
    }
    let start = 0;
    if (this.#afterCR && text.charCodeAt(0) === 10) start = 1;
    if (text !== '') this.#afterCR = false;
    this.#lineEnd.lastIndex = start;
    for (let match = this.#lineEnd.exec(text); match; match = this.#lineEnd.exec(text)) {
      const end = match.index;
      const line = this.#partial + text.slice(start, end);
      this.#partial = '';
      this.#line(line, out);
      start = end + 1;
      if (text.charCodeAt(end) === 13) {
        if (start === text.length) this.#afterCR = true;
        else if (text.charCodeAt(start) === 10) start++;
      }
      this.#lineEnd.lastIndex = start;
    }
    this.#partial += text.slice(start);
    return out;
  }

  #line(line: string, out: SseMessage[]): void {
    if (line === '') {
      this.#dispatch(out);
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' starts a comment (keep-alives)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1); // one optional space after the colon
    switch (field) {
      case 'event':
        this.#event = value;
        return;
      case 'data':
        this.#data.push(value);
        return;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        return;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        return;
      default:
        return; // unknown fields are ignored, so the format can grow
    }
  }

  /** A blank line ends a message; one without data lines is dropped, as browsers do. */
  #dispatch(out: SseMessage[]): void {
    const data = this.#data;
    const event = this.#event;
    this.#data = [];
    this.#event = '';
    if (data.length === 0) return;
    out.push({ event: event || 'message', data: data.join('\n'), lastEventId: this.lastEventId });
  }
}
