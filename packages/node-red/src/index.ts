// node-red-contrib-labwire: Node-RED nodes for OptoMMP, PyMoDAQ and cmd_tcp instruments. Node-RED loads the
// node modules named in package.json ("node-red".nodes); this entry point gives the same registration
// functions to programs that start Node-RED themselves or test flows (node-red-node-test-helper), and the
// shapes of the messages the nodes exchange.

export { BusLink, LinkDownError, type LinkState as BusLinkState } from './cmd-tcp/link';
export { CMDTCP, CMDTCP_LINK, OPERATIONS as CMDTCP_OPERATIONS, registerCmdTcpNodes } from './cmd-tcp/nodes';
export { SettingError } from './config';
export { type DeviceLinkState, MmpDevice, type MmpDeviceSettings, SIMULATED_RACK } from './optommp/device';
export {
  deviceSettings,
  MMP_DEVICE,
  MMP_READ,
  MMP_SCAN,
  MMP_WRITE,
  registerOptommpNodes,
} from './optommp/nodes';
export { RAW_READ_TYPES, RAW_WRITE_TYPES, READ_AREAS, WRITE_AREAS } from './optommp/operations';
export {
  dataFromFlow,
  dataToFlow,
  type FlowChannel,
  FlowDataError,
  type FlowDataToExport,
  type FlowDataWithAxes,
} from './pymodaq/data';
export { PYMODAQ_ACTUATOR, PYMODAQ_DETECTOR, type RequestToken } from './pymodaq/instrument-nodes';
export { registerPymodaqNodes } from './pymodaq/nodes';
export { COMMANDS as PYMODAQ_COMMANDS, PYMODAQ_COMMAND, PYMODAQ_SERVER } from './pymodaq/server-nodes';
export type { NodeAPI, NodeMessage, NodeModule, NodeStatus, RedNode } from './red';
export { escapeText, reasonOf, shorten } from './status';

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
