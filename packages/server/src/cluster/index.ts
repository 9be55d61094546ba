export { Cluster, type ClusterOptions } from './cluster.js';
export {
  ClusterPresence,
  type ClusterTotals,
  type LocalReport,
  type NodeReport,
  type WorkerReport,
} from './presence.js';
export { RemoteProducer } from './relay.js';
