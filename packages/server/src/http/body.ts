import type { IncomingMessage } from 'node:http';
import { AgentwireError, parseJson } from '@agentwire/protocol';

/**
 * Reads a JSON request body, refusing it as soon as it passes `maxBytes` rather than after
 * buffering it all, and refusing bytes that are not UTF-8.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new AgentwireError('unsupported_media_type');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new AgentwireError('payload_too_large', `The body exceeds ${maxBytes} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new AgentwireError('payload_too_large', `The body exceeds ${maxBytes} bytes.`);
    }
    chunks.push(chunk);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new AgentwireError('bad_encoding');
  }
  return parseJson(text);
}
