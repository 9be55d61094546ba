export { connect } from './connect.js';
export type {
  AmqpCommandsOptions,
  CommonConnectOptions,
  ConnectOptions,
  HttpConnectOptions,
  InProcessConnectOptions,
} from './connect.js';
export type { Producer, StartTaskOptions } from './producer.js';
export type { Worker, WorkerOptions, TaskHandler, TaskStart } from './worker.js';
export type { AskOptions, AskResult, QuestionOption } from './question.js';
export type { ChatMessage, MessageHandler } from './inbox.js';
export type { ChannelHandlers, ChannelStatus, CommandChannel } from './channel/command-channel.js';
export { WebSocketChannel, type WebSocketChannelOptions } from './channel/websocket-channel.js';
export { InProcessChannel } from './channel/in-process-channel.js';
export { AmqpChannel, type AmqpChannelOptions } from './channel/amqp-channel.js';
export type { TaskHandle, TaskProgress, FailureReason, SpawnAgentOptions } from './task.js';
export type {
  AgentHandle,
  AgentProgress,
  LogFields,
  LogLevel,
  MessageOptions,
  MessageRole,
  Recall,
  ToolOptions,
} from './agent.js';
export type { ToolCall } from './tool-call.js';
export type { MessageHandle } from './message.js';
export type { Publisher, PublishResult } from './publisher.js';
export type { FailedEvent, PublishErrorListener } from './outbox.js';
export type { Ack } from './stream-queue.js';
export type { ReconnectOptions, RetryPolicy } from './retry.js';
export type { HttpPublisherOptions } from './http-publisher.js';
// Re-exported so producers can branch on `err.code` without depending on the protocol package.
export { AgentwireError } from '@agentwire/protocol';
export type { ErrorCode } from '@agentwire/protocol';
export { fromAgUi, type AgUiOutcome, type FromAgUiOptions } from './agui/from-agui.js';
export { bridgeAgUi, runAgUiAgent, type AgUiAgentOptions } from './agui/bridge.js';
