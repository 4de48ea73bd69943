// @labwire/bus: Pyrame's cmd_tcp bus as a library (TcpBus), its Pyrame façade (CmdTcp), conf_strings and
// the link-kind extension point. The instrument simulator is at `@labwire/bus/simulator`.
//
// Errors: every error is a BusError (a LabwireError) with a stable `code`. Conditions that carry data of
// their own have a class (InvalidConfError, InvalidEscapeError, InvalidBinDataError, UnknownKindError,
// ConnectError, LinkIoError and its LinkTimeoutError / LinkEofError); the others are told apart by `code`
// alone (`IdInUse`, `InvalidId`, `UnknownId`, `NotConfigured`, `AlreadyConfigured`, `InvalidEot`,
// `InvalidArgument`, `Resolve`, `TimeoutMismatch`).

export type { TimeoutArg } from './arguments';
export type { Arg } from './cmd-tcp';
export { CMD_TCP_API, CmdTcp, type PyrameResult, pyrameResult } from './cmd-tcp';
export type { ConfString } from './conf-string';
export { parseConfString, unparseConfString } from './conf-string';
export type { Eot } from './eot';
export type { BusErrorOptions } from './errors';
export {
  BusError,
  ConnectError,
  InvalidBinDataError,
  InvalidConfError,
  InvalidEscapeError,
  LinkEofError,
  LinkIoError,
  LinkTimeoutError,
  UnknownKindError,
} from './errors';
export type { LinkId } from './link-id';
export type { Channel, LinkDefaults, LinkKind, LinkParams, ResolvedEndpoint } from './link-kind';
export { type BusCallOptions, type LinkInfo, TcpBus, type TcpBusOptions } from './tcp-bus';
export { type TcpLinkParams, tcpKind } from './tcp-kind';
