// The options of the commands, and where they read and write (shared by cli.ts and the commands).

import { type CliIo, readPackageVersion } from '@labwire/cli-kit';
import type { Shard } from './shard';

export const VERSION = readPackageVersion(new URL('../package.json', import.meta.url));

export interface GatewayIo extends CliIo {
  /** Stops a running gateway or watch (main.ts wires SIGINT/SIGTERM/SIGHUP to it). */
  signal?: AbortSignal | undefined;
}

export interface RunOptions {
  demo?: boolean;
  devices: number;
  broker?: string[];
  host: string;
  port?: number;
  allowRemote?: boolean;
  groupId?: string;
  edgeNodeId?: string;
  shard?: Shard;
  username?: string;
  primaryHost?: string;
  duration?: number;
  stats?: number;
  script: boolean;
  quiet?: boolean;
  verbose?: boolean;
  json?: boolean;
}

export interface WatchOptions {
  broker: string;
  group?: string;
  rebirth?: boolean;
  username?: string;
  duration?: number;
  json?: boolean;
}

export interface CheckOptions {
  shard?: Shard;
  groupId?: string;
  edgeNodeId?: string;
  json?: boolean;
}
