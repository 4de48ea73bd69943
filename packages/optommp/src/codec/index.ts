// @labwire/optommp/codec: the OptoMMP wire format without sockets (packets, tcodes, rcodes, memory map).

export { Address, epicAnalogReadAddress, epicDigitalReadAddress } from './addresses';
export type { DecodedPacket } from './decode';
export { type DecodeOptions, decodePacket } from './decode';
export { describePackets } from './describe';
export type { Init } from './encode';
export { encodePacket, encodeReadBlockRequest, encodeRequest, type RequestInit } from './encode';
export { DeviceError, ResponseMismatchError } from './errors';
export { formatAddress, MEMORY_MAP } from './memory-map';
export type {
  OptoMmpPacket,
  OptoMmpRequest,
  OptoMmpResponse,
  PacketHeader,
  UndefinedTcodePacket,
} from './packet';
export {
  addressOf,
  offsetOf,
  type ReadBlockRequest,
  type ReadBlockResponse,
  type ReadQuadletRequest,
  type ReadQuadletResponse,
  type WriteBlockRequest,
  type WriteQuadletRequest,
  type WriteResponse,
} from './packet';
export { PacketDecoder } from './packet-decoder';
export { formatDeviceCode, RCODES } from './rcode';
export { readPacket } from './read-packet';
export type { StatusArea } from './status-area';
export { decodeStatusArea, describeLastError, STATUS_FIELDS } from './status-area';
export { checkResponse, expectationFor, type ResponseExpectation } from './validate';
