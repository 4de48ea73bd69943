// @labwire/pymodaq: PyMoDAQ's TCP/IP remote control for every wire generation (A, B, C1–C4, D):
// actuator and detector client roles, a server, a bridge between generations, a probe, and the codec
// (also at `@labwire/pymodaq/codec`).

export {
  type ActuatorHandlers,
  type MoveContext,
  type MoveResult,
  PymodaqActuator,
  type PymodaqActuatorEvents,
  type PymodaqActuatorOptions,
} from './actuator';
export {
  type BridgeClientInfo,
  type BridgeClientState,
  type BridgeCounters,
  type FrameDropReason,
  PymodaqBridge,
  type PymodaqBridgeEvents,
  type PymodaqBridgeOptions,
} from './bridge';
export {
  defaultSettings,
  type PymodaqClientEvents,
  type PymodaqClientOptions,
  type ServerMessage,
} from './client-role';
export {
  type CodecLimits,
  type DataDim,
  type DataToExport,
  GENERATIONS,
  type Generation,
  NdArray,
  type Position,
  type PymodaqProfile,
  type PyValue,
  resolveProfile,
  type TypedArray,
  type WireProfile,
} from './codec';
export {
  CLIENT_COMMANDS,
  CLIENT_TYPES,
  ClientCommand,
  type ClientType,
  GRAB_DIMS,
  type GrabDim,
  SERVER_COMMANDS,
  ServerCommand,
} from './commands';
export {
  type DetectorHandlers,
  PymodaqDetector,
  type PymodaqDetectorEvents,
  type PymodaqDetectorOptions,
} from './detector';
export {
  ClientTypeError,
  generationsToTry,
  HandlerError,
  HandshakeRejectedError,
  NoClientError,
  PeerGoneError,
  ProtocolError,
  type RejectionSign,
  TranslationError,
  UnknownCommandError,
  XmlError,
} from './errors';
export {
  applyParameter,
  findParameter,
  type ParameterNode,
  type ParameterXmlLimits,
  parameter,
  parseParameterXml,
  toParameterXml,
} from './parameter-xml';
export {
  generationsOfServerBytes,
  type ProbeOptions,
  type ProbeResult,
  type ProbeStep,
  probePymodaq,
} from './probe';
export {
  PymodaqServer,
  type PymodaqServerEvents,
  type PymodaqServerOptions,
  type ServerCallOptions,
  type ServerRole,
} from './server';
export type { PymodaqServerClient } from './server-session';
export { GaussianDetector, type GaussianDetectorOptions } from './sim/gaussian-detector';
export { SimulatedStage, type SimulatedStageOptions } from './sim/simulated-stage';
