// Values the client returns.

import type { StatusArea } from './codec/status-area';

/** An EPIC digital channel block (F01E0000 + m·0x1000 + c·0x40, docs/protocols/optommp.md §3.4). */
export interface DigitalPoint {
  state: boolean;
  onLatch: boolean;
  offLatch: boolean;
  featureType: number;
  /** Counter or other feature value (u32). */
  featureValue: number;
  /** Quality detail, 0 = good. */
  quality: number;
}

/** An EPIC analog channel block (F0260000 + m·0x1000 + c·0x40, docs/protocols/optommp.md §3.4). */
export interface AnalogPoint {
  /** Engineering units. */
  value: number;
  /** Counts (SNAP) or unused (EPIC). */
  counts: number;
  min: number;
  max: number;
  /** Quality detail (EPIC), 0 = good. */
  quality: number;
}

/** The packed digital block of one module (F1001900 + m·0x10): bit c is channel c (channels 0–31). */
export interface PackedDigital {
  states: number;
  quality: number;
  onLatches: number;
  offLatches: number;
}

/** The SNAP PAC 64-point digital bank (F0400000). Masks have point p at bit p. */
export interface DigitalBank {
  states: bigint;
  onLatches: bigint;
  offLatches: bigint;
  activeCounters: bigint;
  /** 64 counters (+0x100). */
  counters: number[];
}

/** The SNAP PAC 64-point analog bank (F0600000). */
export interface AnalogBank {
  values: number[];
  counts: number[];
  min: number[];
  max: number[];
}

/** The whole status area plus both network interfaces. */
export interface DeviceStatus extends StatusArea {
  /** eth0 as the status area gives it. */
  eth0: {
    ipAddress: string;
    subnetMask: string;
    defaultGateway: string;
    dnsServer: string;
    macAddress: string;
  };
  /** eth1 from the IP-settings area (same fields as eth0); undefined when the device has no such area (NAK). */
  eth1: DeviceStatus['eth0'] | undefined;
}

/** How `readRawOffset` interprets the bytes (python `ReadRawOffset` types, done right). */
export type RawType = 'bytes' | 'hex' | 'u32' | 'i32' | 'f32' | 'string' | 'ip' | 'mac' | 'firmware';
