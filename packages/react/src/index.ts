export { AgentwireContext } from './context.js';
export { AgentwireProvider, type AgentwireProviderProps } from './provider.js';
export { useAgentwireClient } from './use-client.js';
export { useSubscription } from './use-subscription.js';
export { useTask, type LiveTask } from './use-task.js';
export {
  useMessageText,
  useCurrentAnswer,
  messageTextStore,
  pickMessage,
  type LiveMessage,
} from './use-message-text.js';
export { useStream, type LiveStream, type UseStreamOptions } from './use-stream.js';
export { useConnectionStatus } from './use-connection-status.js';
export { useTaskList, type LiveTaskList } from './use-task-list.js';
