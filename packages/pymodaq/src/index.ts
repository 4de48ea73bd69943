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
export type {
  LinkSession,
  PymodaqClientEvents,
  PymodaqClientOptions,
  ServerMessage,
} from './client-role';
export {
  type CodecLimits,
  type DataDim,
  type DataToExport,
  type Generation,
  NdArray,
  type Position,
  type PymodaqProfile,
  resolveProfile,
  type WireProfile,
} from './codec';
export type { TypedArray } from './codec/nd-array';
export type { PyDict, PyScalar, PyTuple, PyValue } from './codec/values';
export { type ClientType, GRAB_DIMS, type GrabDim } from './commands';
export type { DetectorHandlers, PymodaqDetectorEvents, PymodaqDetectorOptions } from './detector';
export { PymodaqDetector } from './detector';
export {
  ClientTypeError,
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
export type { ParameterXmlLimits } from './parameter-xml';
export {
  applyParameter,
  findParameter,
  type ParameterNode,
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
export type { GaussianDetectorOptions } from './sim/gaussian-detector';
export { GaussianDetector } from './sim/gaussian-detector';
export type { SimulatedStageOptions } from './sim/simulated-stage';
export { SimulatedStage } from './sim/simulated-stage';
