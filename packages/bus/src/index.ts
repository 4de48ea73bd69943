export { byteCountArg, pythonFloat, pythonInt, type TimeoutArg, timeoutArgMs } from './arguments';
export { decodeBinData, encodeBinData } from './bin-data';
export {
  CMD_TCP_API,
  CMD_TCP_PREFIX,
  CmdTcp,
  type CmdTcpFunction,
  type PyrameResult,
  type PyrameRetcode,
  pyrameResult,
  pyrameText,
} from './cmd-tcp';
export {
  CONF_COUNT_MESSAGE,
  CONF_END_MESSAGE,
  CONF_EQUAL_MESSAGE,
  CONF_FORM_MESSAGE,
  CONF_INDEX_MESSAGE,
  type ConfString,
  confString,
  parseConfString,
  unparseConfString,
} from './conf-string';
export { EOT_NEEDED_MESSAGE, type Eot, parseEotList } from './eot';
export {
  AlreadyConfiguredError,
  BusError,
  type BusErrorOptions,
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
export {
  decodeEscapes,
  type EscapeOptions,
  encodeEscapes,
  INVALID_X_ESCAPE_MESSAGE,
  TRAILING_BACKSLASH_MESSAGE,
} from './escapes';
export { classifyExpectPattern, type ExpectPatternKind, ExpectWindow, pyrameExpect } from './expect-window';
export { canonicalLinkId, integerLinkId, type LinkId } from './link-id';
export type {
  Channel,
  DesyncPolicy,
  LinkDefaults,
  LinkKind,
  LinkParams,
  ReplyReader,
  ResolvedEndpoint,
} from './link-kind';
export {
  type BusCallOptions,
  type ConnectionEvent,
  type LinkInfo,
  type LinkState,
  PYRAME_DEFAULT_TIMEOUT_MS,
  TcpBus,
  type TcpBusEvents,
  type TcpBusOptions,
} from './tcp-bus';
export {
  REQUIRED_PARAMETER_MESSAGE,
  TcpChannel,
  type TcpEndpoint,
  type TcpLinkParams,
  tcpKind,
} from './tcp-kind';
export { stripTextMode, textModeString } from './text-mode';
