import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '@agentwire/agent';
import type { AnyEnvelope } from '@agentwire/protocol';
import { createGateway } from './gateway.js';

const root = mkdtempSync(join(tmpdir(), 'agentwire-in-process-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('in-process ingest through the agent SDK', () => {
  it('stores and fans out what the data was at the call, whatever the caller does with it after', async () => {
    const gateway = await createGateway({
      port: 0,
      engine: { kind: 'sqlite', path: join(root, 'log.sqlite') },
      logLevel: 'silent',
    });
    const heard: AnyEnvelope[] = [];
    const off = gateway.engine.onAppend((_stream, events) => heard.push(...events));
    const producer = connect({ publisher: gateway });
    try {
      const fields: Record<string, unknown> = { step: 1, tags: ['a'], nested: { n: 1 }, gone: undefined };
      const pending = producer.publish('task:mut', [
        { type: 'custom:event', data: { name: 'x', payload: fields } },
      ]);
      fields.step = 2;
      (fields.tags as string[]).push('b');
      (fields.nested as { n: number }).n = 99;
      const [ack] = await pending;
      const expected = { name: 'x', payload: { step: 1, tags: ['a'], nested: { n: 1 } } };
      assert.equal(ack?.seq, 1);
      assert.deepEqual(heard[0]?.data, expected, 'what the hub and listeners got');
      const read = await gateway.engine.read('task:mut', 0, 10);
      assert.deepEqual(read.events[0]?.data, expected, 'what the log stored');
      assert.equal(read.events[0]?.id, ack?.id);
      // Retrying with the same id is a duplicate, not a second event.
      const [again] = await producer.publish('task:mut', [
        { id: ack!.id, type: 'custom:event', data: { name: 'x', payload: { step: 3 } } },
      ]);
      assert.deepEqual(again, { id: ack!.id, seq: 1, duplicate: true });
    } finally {
      off();
      await producer.close();
      await gateway.close();
    }
  });
});
