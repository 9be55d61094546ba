import type { DialectName, SocketIoDialect } from './dialect.js';
import { flaskDashboardDialect } from './flask-dashboard.js';
import { mageagentDialect } from './mageagent.js';
import { nativeDialect } from './native.js';
import { progressDialect } from './progress.js';

export * from './dialect.js';
export { FLASK_ROOMS } from './flask-dashboard.js';

/** Every Socket.IO dialect by the name configuration uses. */
export const socketIoDialects: Readonly<Record<DialectName, SocketIoDialect>> = {
  native: nativeDialect,
  mageagent: mageagentDialect,
  progress: progressDialect,
  'flask-dashboard': flaskDashboardDialect,
};
