// The command strings of PyMoDAQ's TCP/IP remote control (docs/protocols/pymodaq.md §7). Every message starts with one of
// them (a `str` in gen A–C, a `str`-tagged frame in gen D); the payload that follows depends on it.

import type { Generation } from './codec';

/** What a client declares itself as, in its first message (docs/protocols/pymodaq.md §8.1). Matched exactly. */
export type ClientType = 'GRABBER' | 'ACTUATOR';
export const CLIENT_TYPES: readonly ClientType[] = ['GRABBER', 'ACTUATOR'];

/** The dimensionality a detector is asked for: `Send Data 0D` … `Send Data ND`. */
export type GrabDim = '0D' | '1D' | '2D' | 'ND';
export const GRAB_DIMS: readonly GrabDim[] = ['0D', '1D', '2D', 'ND'];

/** Server → client commands. */
export const ServerCommand = {
  sendData: (dim: GrabDim) => `Send Data ${dim}` as const,
  moveAbs: 'move_abs',
  moveRel: 'move_rel',
  moveHome: 'move_home',
  /** Sent by servers up to PyMoDAQ 3.6.2 (gen A and early B); PyMoDAQ clients still accept it. */
  checkPosition: 'check_position',
  /** Sent by servers from PyMoDAQ 3.6.3 (2022-10-10) on. */
  getActuatorValue: 'get_actuator_value',
  stopMotion: 'stop_motion',
  setInfo: 'set_info',
  /** labwire extension: the server says goodbye before closing (PyMoDAQ's server never sends it, §9 k). */
  quit: 'Quit',
} as const;

/** Client → server commands. */
export const ClientCommand = {
  infos: 'Infos',
  info: 'Info',
  infoXml: 'Info_xml',
  done: 'Done',
  positionIs: 'position_is',
  moveDone: 'move_done',
  xAxis: 'x_axis',
  yAxis: 'y_axis',
  quit: 'Quit',
} as const;

export const CLIENT_COMMANDS: readonly string[] = Object.values(ClientCommand);
export const SERVER_COMMANDS: readonly string[] = [
  ...GRAB_DIMS.map(ServerCommand.sendData),
  ServerCommand.moveAbs,
  ServerCommand.moveRel,
  ServerCommand.moveHome,
  ServerCommand.checkPosition,
  ServerCommand.getActuatorValue,
  ServerCommand.stopMotion,
  ServerCommand.setInfo,
  ServerCommand.quit,
];

/** The grab dimension named by a `Send Data …` command, or undefined. */
export function grabDimOf(command: string): GrabDim | undefined {
  if (!command.startsWith('Send Data ')) return undefined;
  const dim = command.slice('Send Data '.length) as GrabDim;
  return GRAB_DIMS.includes(dim) ? dim : undefined;
}

/** The position query a server of this generation sends: gen A servers (≤ 2.0.0) say `check_position`. */
export function positionQueryFor(generation: Generation): string {
  return generation === 'A' ? ServerCommand.checkPosition : ServerCommand.getActuatorValue;
}

/** The first element of every `set_info` path sent by a server (docs/protocols/pymodaq.md §8.4); the client drops it. */
export const SERVER_SETTINGS_ROOT = 'settings_client';
