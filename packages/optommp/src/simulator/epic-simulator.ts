// A groov EPIC simulator in one call: the device model with a TCP server, and a UDP server when asked.

import { EpicDevice, type EpicDeviceOptions } from './device';
import type { FaultHook } from './faults';
import { type AnswerBehaviour, type BoundAddress, OptoMmpTcpServer } from './tcp-server';
import { OptoMmpUdpServer } from './udp-server';

export interface EpicSimulatorOptions extends EpicDeviceOptions, AnswerBehaviour {
  /** Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. OptoMMP devices listen on 2001. */
  port?: number;
  /** Serve TCP (default true). */
  tcp?: boolean;
  /** Serve UDP too: on `udpPort`, or on the TCP port number when TCP is served (docs/protocols/optommp.md §1), else a free one. */
  udp?: boolean;
  udpPort?: number;
  /**
   * TCP connections served at once; at capacity a newcomer takes the slot of the connection idle the
   * longest. Default 64.
   */
  maxConnections?: number;
  /** A TCP connection that completes no request for this long is closed, ms; 0 never. Default 60 000. */
  idleTimeoutMs?: number;
  faults?: FaultHook;
  /** Use this device instead of building one from the options. */
  device?: EpicDevice;
}

export class EpicSimulator implements AsyncDisposable {
  readonly device: EpicDevice;
  readonly tcpServer: OptoMmpTcpServer | undefined;
  readonly udpServer: OptoMmpUdpServer | undefined;

  private constructor(
    device: EpicDevice,
    tcp: OptoMmpTcpServer | undefined,
    udp: OptoMmpUdpServer | undefined,
  ) {
    this.device = device;
    this.tcpServer = tcp;
    this.udpServer = udp;
  }

  /** Builds the device, binds the servers and resolves once they listen. */
  static async start(options: EpicSimulatorOptions = {}): Promise<EpicSimulator> {
    const device = options.device ?? new EpicDevice(options);
    const host = options.host ?? '127.0.0.1';
    const common = {
      host,
      faults: options.faults,
      logger: options.logger,
      latencyMs: options.latencyMs,
      jitterMs: options.jitterMs,
      random: options.random,
    };
    let tcp: OptoMmpTcpServer | undefined;
    let udp: OptoMmpUdpServer | undefined;
    try {
      if (options.tcp ?? true) {
        tcp = new OptoMmpTcpServer(device, {
          ...common,
          port: options.port ?? 0,
          maxConnections: options.maxConnections,
          idleTimeoutMs: options.idleTimeoutMs,
          pipelining: options.pipelining,
        });
        await tcp.listen();
      }
      if (options.udp) {
        udp = new OptoMmpUdpServer(device, {
          ...common,
          port: options.udpPort ?? tcp?.address.port ?? options.port ?? 0,
        });
        await udp.listen();
      }
    } catch (error) {
      await tcp?.close();
      await udp?.close();
      throw error;
    }
    return new EpicSimulator(device, tcp, udp);
  }

  /** The TCP address (host and port). */
  get address(): BoundAddress {
    if (this.tcpServer === undefined) throw new Error('EpicSimulator: no TCP server');
    return this.tcpServer.address;
  }

  get host(): string {
    return (this.tcpServer ?? this.udpServer)!.address.host;
  }

  get port(): number {
    return (this.tcpServer ?? this.udpServer)!.address.port;
  }

  /** The UDP address, when UDP is served. */
  get udpAddress(): BoundAddress | undefined {
    return this.udpServer?.address;
  }

  /** Closes every server and connection. Idempotent. */
  async close(): Promise<void> {
    await Promise.all([this.tcpServer?.close(), this.udpServer?.close()]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
