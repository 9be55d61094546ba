import type { DialectName, SocketIoDialect } from '../dialect.js';
import { flaskDashboardDialect } from '../flask-dashboard/flask-dashboard-dialect.js';
import { mageagentDialect } from '../mageagent/mageagent-dialect.js';
import { nativeDialect } from './native-dialect.js';
import { progressDialect } from '../progress/progress-dialect.js';

export * from '../dialect.js';
export { FLASK_ROOMS } from '../flask-dashboard/flask-dashboard-dialect.js';

/** Every Socket.IO dialect by the name configuration uses. */
export const socketIoDialects: Readonly<Record<DialectName, SocketIoDialect>> = {
  native: nativeDialect,
  mageagent: mageagentDialect,
  progress: progressDialect,
  'flask-dashboard': flaskDashboardDialect,
};
