import type { TSchema } from '@sinclair/typebox';
import { AgentwireError } from './errors.js';
import {
  AnswerDelivery,
  CancelDelivery,
  ClaimOp,
  DeliverOp,
  gatewayOpNames,
  MessageDelivery,
  ProducerAckOp,
  ProducerByeOp,
  ProducerErrorOp,
  ProducerHelloOp,
  producerOpNames,
  ProducerPingOp,
  ProducerPongOp,
  ProducerRejectOp,
  StartDelivery,
  WelcomeOp,
  WorkerOp,
  type CommandDelivery,
  type GatewayOp,
  type ProducerOp,
} from './producer-wire.js';
import { assertSchema, parseJson, precompile } from './validate.js';

const producerSchemas = {
  hello: ProducerHelloOp,
  claim: ClaimOp,
  worker: WorkerOp,
  ack: ProducerAckOp,
  reject: ProducerRejectOp,
  ping: ProducerPingOp,
  bye: ProducerByeOp,
} satisfies Record<ProducerOp['op'], TSchema>;

const gatewaySchemas = {
  welcome: WelcomeOp,
  command: DeliverOp,
  pong: ProducerPongOp,
  error: ProducerErrorOp,
} satisfies Record<GatewayOp['op'], TSchema>;

const deliverySchemas = {
  cancel: CancelDelivery,
  answer: AnswerDelivery,
  message: MessageDelivery,
  start: StartDelivery,
} satisfies Record<CommandDelivery['type'], TSchema>;

/** Validates one producer op (a parsed frame, or an object handed over in-process). */
export function parseProducerOp(value: unknown): ProducerOp {
  const name = opOf(value, producerOpNames);
  assertSchema(producerSchemas[name], value, 'invalid_message', `Invalid ${name}`);
  return value as ProducerOp;
}

/** Validates one gateway op; the agent SDK calls this at its boundary. */
export function parseGatewayOp(value: unknown): GatewayOp {
  const name = opOf(value, gatewayOpNames);
  if (name === 'command') {
    const command = (value as { command?: unknown }).command;
    const type =
      typeof command === 'object' && command !== null ? (command as { type?: unknown }).type : undefined;
    if (typeof type === 'string' && Object.hasOwn(deliverySchemas, type)) {
      assertSchema(
        deliverySchemas[type as CommandDelivery['type']],
        command,
        'invalid_message',
        'Invalid command',
      );
    }
  }
  assertSchema(gatewaySchemas[name], value, 'invalid_message', `Invalid ${name}`);
  return value as GatewayOp;
}

/** Parses a text frame of the producer channel as JSON first. */
export function parseProducerFrame(text: string): ProducerOp {
  return parseProducerOp(parseJson(text));
}

export function parseGatewayFrame(text: string): GatewayOp {
  return parseGatewayOp(parseJson(text));
}

function opOf<N extends string>(value: unknown, names: readonly N[]): N {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AgentwireError('invalid_message', 'A message must be a JSON object with an "op".');
  }
  const op = (value as { op?: unknown }).op;
  if (typeof op !== 'string' || !names.includes(op as N)) {
    throw new AgentwireError(
      'unknown_op',
      `Unknown op ${typeof op === 'string' ? JSON.stringify(op.slice(0, 64)) : String(op)}.`,
    );
  }
  return op as N;
}

/** Compiles the producer channel's validators now (an SDK opening its channel, a gateway starting). */
export function precompileProducerOps(): void {
  precompile([
    ...Object.values(producerSchemas),
    ...Object.values(gatewaySchemas),
    ...Object.values(deliverySchemas),
  ]);
}
