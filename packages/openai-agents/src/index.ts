export { runAgent, type RunAgentOptions, type RunInput } from './run-agent.js';
export { runTask } from './run-task.js';
export type { ApprovalPolicy, ApprovalRequest } from './approvals.js';
export type { RunUsage } from './run-recorder.js';
