export type { TimeoutArg } from './arguments';
export { decodeBinData, encodeBinData } from './bin-data';
export type { Arg, CmdTcpFunction, PyrameRetcode } from './cmd-tcp';
export { CMD_TCP_API, CmdTcp, type PyrameResult, pyrameResult } from './cmd-tcp';
export type { ConfString } from './conf-string';
export { confString, parseConfString, unparseConfString } from './conf-string';
export { type Eot, parseEotList } from './eot';
export type { BusErrorOptions } from './errors';
export {
  AlreadyConfiguredError,
  BusError,
  ConnectError,
  IdInUseError,
  InvalidArgumentError,
  InvalidBinDataError,
  InvalidConfError,
  InvalidEotError,
  InvalidEscapeError,
  InvalidIdError,
  LinkEofError,
  LinkIoError,
  LinkTimeoutError,
  NotConfiguredError,
  ResolveError,
  TimeoutMismatchError,
  UnknownIdError,
  UnknownKindError,
} from './errors';
export type { EscapeOptions } from './escapes';
export { decodeEscapes, encodeEscapes } from './escapes';
export { ExpectWindow, pyrameExpect } from './expect-window';
export type { LinkId } from './link-id';
export type {
  Channel,
  DesyncPolicy,
  LinkDefaults,
  LinkKind,
  LinkParams,
  ReplyReader,
  ResolvedEndpoint,
} from './link-kind';
export type { ConnectionEvent, LinkInfo, TcpBusEvents } from './tcp-bus';
export { type BusCallOptions, type LinkState, TcpBus, type TcpBusOptions } from './tcp-bus';
export { type TcpLinkParams, tcpKind } from './tcp-kind';
export { stripTextMode, textModeString } from './text-mode';
