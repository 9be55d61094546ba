import { pathToFileURL } from 'node:url';
import { catalog } from './catalog.js';
import { CommandSchema } from './commands.js';
import { EnvelopeSchema, EventInputSchema, SinceSchema } from './envelope.js';
import { errorCodes } from './errors.js';
import { httpAnswerSchemas } from './http-answers.js';
import {
  CommandDeliverySchema,
  GatewayOpSchema,
  PRODUCER_PROTOCOL_VERSION,
  ProducerOpSchema,
} from './producer-wire.js';
import { TaskListQuerySchema } from './task-list.js';
import { ClientOpSchema, PROTOCOL_VERSION, ServerOpSchema } from './wire.js';

/**
 * The machine-readable contract: one JSON Schema document (draft 2020-12) generated from the same
 * schemas the code validates with. Committed as docs/protocol.schema.json.
 */
export function schemaDocument(): Record<string, unknown> {
  const events: Record<string, unknown> = {};
  for (const [type, schema] of Object.entries(catalog)) events[type] = schema;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://agentwire.dev/schema/protocol.json',
    title: 'agentwire protocol',
    'x-protocol-version': PROTOCOL_VERSION,
    'x-producer-protocol-version': PRODUCER_PROTOCOL_VERSION,
    $defs: {
      Envelope: EnvelopeSchema,
      EventInput: EventInputSchema,
      Since: SinceSchema,
      Command: CommandSchema,
      TaskListQuery: TaskListQuerySchema,
      ClientOp: ClientOpSchema,
      ServerOp: ServerOpSchema,
      CommandDelivery: CommandDeliverySchema,
      ProducerOp: ProducerOpSchema,
      GatewayOp: GatewayOpSchema,
      events,
      http: httpAnswerSchemas,
    },
    'x-error-codes': errorCodes,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${JSON.stringify(schemaDocument(), null, 2)}\n`);
}
