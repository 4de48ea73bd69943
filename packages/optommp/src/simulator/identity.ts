// What the simulated device says about itself in the status area (docs/protocols/optommp.md §3.1) and the IP-settings area.

export interface NetworkIdentity {
  ipAddress: string;
  subnetMask: string;
  defaultGateway: string;
  dnsServer: string;
  macAddress: string;
}

export interface DeviceIdentity {
  memoryMapVersion: number;
  /** `[major, minor, release type, build]`, e.g. `[4, 1, 2, 2]` = R4.1c. */
  loaderVersion: readonly [number, number, number, number];
  firmwareVersion: readonly [number, number, number, number];
  /** u32 at F0300020. The groov EPIC code is in no source; 0 unless set. */
  unitType: number;
  /** Up to 32 ASCII characters at F0300080. */
  partNumber: string;
  /** Up to 16 ASCII characters each. */
  firmwareDate: string;
  firmwareTime: string;
  serialNumber: number;
  installedRam: number;
  hardwareRevision: { month: number; day: number; year: number };
  eth0: NetworkIdentity;
  eth1: NetworkIdentity;
}

/** The shape `identity` options take: any field may be left out, network interfaces field by field. */
export type DeviceIdentityInit = Partial<Omit<DeviceIdentity, 'eth0' | 'eth1'>> & {
  eth0?: Partial<NetworkIdentity>;
  eth1?: Partial<NetworkIdentity>;
};

const NO_NETWORK: NetworkIdentity = {
  ipAddress: '0.0.0.0',
  subnetMask: '0.0.0.0',
  defaultGateway: '0.0.0.0',
  dnsServer: '0.0.0.0',
  macAddress: '00-00-00-00-00-00',
};

/** Everything zero: the base of the vector preset ("everything else mapped: 0"). */
export const BLANK_IDENTITY: DeviceIdentity = {
  memoryMapVersion: 0,
  loaderVersion: [0, 0, 0, 0],
  firmwareVersion: [0, 0, 0, 0],
  unitType: 0,
  partNumber: '',
  firmwareDate: '',
  firmwareTime: '',
  serialNumber: 0,
  installedRam: 0,
  hardwareRevision: { month: 0, day: 0, year: 0 },
  eth0: NO_NETWORK,
  eth1: NO_NETWORK,
};

/** The identity behind the shared V vectors (vectors/README.md): only these fields are non-zero. */
export const VECTOR_IDENTITY: DeviceIdentity = {
  ...BLANK_IDENTITY,
  memoryMapVersion: 7,
  firmwareVersion: [4, 1, 2, 2],
  partNumber: 'GRV-EPIC-PR1',
  eth0: { ...NO_NETWORK, ipAddress: '10.192.0.152', macAddress: '00-A0-3D-12-0A-FE' },
  eth1: { ...NO_NETWORK, ipAddress: '192.168.10.5', macAddress: '00-A0-3D-12-0B-01' },
};

/** The default simulated groov EPIC processor: the vector identity plus plausible values elsewhere. */
export const DEFAULT_IDENTITY: DeviceIdentity = {
  ...VECTOR_IDENTITY,
  loaderVersion: [4, 1, 2, 0],
  firmwareDate: '2024-05-14',
  firmwareTime: '10:21:07',
  serialNumber: 0x0012_0afe,
  installedRam: 2 * 1024 * 1024 * 1024,
  hardwareRevision: { month: 3, day: 12, year: 2023 },
  eth0: { ...VECTOR_IDENTITY.eth0, subnetMask: '255.255.0.0' },
  eth1: { ...VECTOR_IDENTITY.eth1, subnetMask: '255.255.255.0' },
};

/** Merges an init over a base identity. */
export function resolveIdentity(base: DeviceIdentity, init: DeviceIdentityInit = {}): DeviceIdentity {
  return {
    ...base,
    ...init,
    eth0: { ...base.eth0, ...init.eth0 },
    eth1: { ...base.eth1, ...init.eth1 },
  };
}
