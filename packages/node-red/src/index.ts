// node-red-contrib-labwire: Node-RED nodes for OptoMMP, PyMoDAQ and cmd_tcp instruments. Node-RED loads the
// node modules named in package.json ("node-red".nodes); this entry point gives the same registration
// functions to programs that start Node-RED themselves or test flows (node-red-node-test-helper), and the
// shapes of the messages the nodes exchange.

export { registerCmdTcpNodes } from './cmd-tcp/nodes';
export { registerOptommpNodes } from './optommp/nodes';
export type { FlowChannel, FlowDataToExport, FlowDataWithAxes } from './pymodaq/data';
export { registerPymodaqNodes } from './pymodaq/nodes';
export type {
  DoneFunction,
  NodeAPI,
  NodeDefinition,
  NodeMessage,
  NodeModule,
  NodeStatus,
  RedNode,
  SendFunction,
} from './red';

/** Every node type this package registers, by module. */
export const NODE_TYPES = {
  optommp: ['labwire-mmp-device', 'labwire-mmp-scan', 'labwire-mmp-read', 'labwire-mmp-write'],
  pymodaq: [
    'labwire-pymodaq-actuator',
    'labwire-pymodaq-detector',
    'labwire-pymodaq-server',
    'labwire-pymodaq-command',
  ],
  'cmd-tcp': ['labwire-cmdtcp-link', 'labwire-cmdtcp'],
} as const;
