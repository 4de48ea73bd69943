// @labwire/pymodaq: PyMoDAQ's TCP/IP remote control for every wire generation (A, B, C1–C4, D):
// actuator and detector client roles, a server, a bridge between generations and a probe. The data
// these speak (DataToExport, NdArray, Generation, resolveProfile, …) and the codec itself are at
// `@labwire/pymodaq/codec`: each name lives in one entry point.
//
// Errors: every error is a LabwireError (`@labwire/framing`) with a stable `code`. Those that carry
// fields of their own are exported here (ClientTypeError, HandlerError, HandshakeRejectedError,
// TranslationError, UnknownCommandError); the others are told apart by `code`: `Xml` (parameter XML
// refused), `NoClient` and `PeerGone` (retryable), `Protocol` (the peer broke the protocol).

export {
  type ActuatorHandlers,
  type MoveContext,
  PymodaqActuator,
} from './actuator';
export { type BridgeClientInfo, PymodaqBridge } from './bridge';
export { type PymodaqClientEvents, type PymodaqClientOptions, PymodaqClientRole } from './client-role';
export { type ClientType, GRAB_DIMS, type GrabDim } from './commands';
export { type DetectorHandlers, PymodaqDetector } from './detector';
export {
  ClientTypeError,
  HandlerError,
  HandshakeRejectedError,
  TranslationError,
  UnknownCommandError,
} from './errors';
export {
  applyParameter,
  findParameter,
  type ParameterNode,
  parameter,
  parseParameterXml,
  toParameterXml,
} from './parameter-xml';
export { type ProbeResult, probePymodaq } from './probe';
export {
  PymodaqServer,
  type PymodaqServerEvents,
  type PymodaqServerOptions,
  type ServerCallOptions,
  type ServerRole,
} from './server';
export type { PymodaqServerClient } from './server-session';
export { GaussianDetector } from './sim/gaussian-detector';
export { SimulatedStage } from './sim/simulated-stage';
