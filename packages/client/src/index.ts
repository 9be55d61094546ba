export { createClient } from './client.js';
export type { Client, ClientEvents, ClientOptions, ClientStatus } from './client.js';
export type {
  Position,
  ResetInfo,
  SubscribeOptions,
  Subscription,
  SubscriptionEvents,
} from './subscription.js';
export type { CommandAck, TaskCommands } from './task-commands.js';
export type { TaskList, TaskListEvents, TaskListOptions, TaskListView } from './task-list.js';
export type { BackoffOptions } from '@agentwire/protocol';
export type { FallbackOptions } from './fallback.js';
export type { CloseInfo, Transport, TransportFactory, TransportKind } from './transport.js';
export { TransportClosedError } from './transport.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
export type { Listener } from './emitter.js';
// Re-exported so an app can depend on the client alone.
export { AgentwireError } from '@agentwire/protocol';
export type {
  AnyEnvelope,
  Command,
  Envelope,
  ErrorCode,
  EventDataMap,
  EventType,
  Since,
  TaskListQuery,
  TaskState,
  TaskSummary,
} from '@agentwire/protocol';
export { contextOf, spanContextOf, startDeliverySpan, traceContextOf, withDeliverySpan } from './tracing.js';
export type { TraceContext } from '@agentwire/protocol';
