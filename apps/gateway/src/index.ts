export { runGateway } from './cli';
export type { GatewayIo } from './options';
