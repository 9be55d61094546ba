export { WsProbe } from './ws-probe.js';
