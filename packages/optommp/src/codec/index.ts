// @labwire/optommp/codec: the OptoMMP wire format without sockets (packets, tcodes, rcodes, memory map).

export { Address, epicAnalogReadAddress, epicDigitalReadAddress } from './addresses';
export type { DecodedPacket } from './decode';
export { type DecodeOptions, decodePacket } from './decode';
export type { DescribedField, PacketDescription } from './describe';
export { type DescribeResult, describePackets } from './describe';
export type { Init } from './encode';
export { encodePacket, encodeReadBlockRequest, encodeRequest, type RequestInit } from './encode';
export type { ResponseField } from './errors';
export { DeviceError, ResponseMismatchError } from './errors';
export type { AreaAccess, MemoryArea } from './memory-map';
export { formatAddress, MEMORY_MAP } from './memory-map';
export type {
  HeaderInit,
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
  type UndefinedTcode,
  type WriteBlockRequest,
  type WriteQuadletRequest,
  type WriteResponse,
} from './packet';
export type { PacketDecoderOptions } from './packet-decoder';
export { PacketDecoder } from './packet-decoder';
export type { RcodeInfo } from './rcode';
export { formatDeviceCode, RCODES } from './rcode';
export type { ReadPacketOptions, ReadProgress } from './read-packet';
export { readPacket } from './read-packet';
export type { StatusArea, StatusField, StatusFieldType } from './status-area';
export { decodeStatusArea, describeLastError, STATUS_FIELDS } from './status-area';
export { checkResponse, expectationFor, type ResponseExpectation } from './validate';
