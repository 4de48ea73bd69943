// The gateway as a user runs it: the built program (dist/main.js through its shebang) in a child process,
// with --json so that its events (one JSON object per stdout line) can be awaited.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtMain, type RunningApp, startApp } from '@labwire/cli-kit/testing';
import { waitFor } from '@labwire/testkit';

export const appDir = path.resolve(import.meta.dirname, '..');
export const main = () => builtMain(appDir);

export type GatewayEvent = Record<string, unknown> & { event: string };

export class GatewayProcess {
  readonly app: RunningApp;
  constructor(args: readonly string[], env?: NodeJS.ProcessEnv) {
    this.app = startApp(main(), args, { env: { ...process.env, ...env } });
  }

  events(): GatewayEvent[] {
    return this.app
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as GatewayEvent);
  }

  /** Log lines (JSON) on stderr. */
  logs(): Array<Record<string, unknown>> {
    return this.app
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async waitEvent(
    predicate: (e: GatewayEvent) => boolean,
    what: string,
    timeoutMs = 20_000,
  ): Promise<GatewayEvent> {
    return waitFor(() => this.events().find(predicate), {
      timeoutMs,
      message: `${what}; stderr: ${this.app.stderr().slice(-800)}`,
    });
  }

  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.app.stop(signal, 15_000);
  }
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'labwire-gateway-test-'));
}

/** Writes a configuration file (JSON) and returns its path. */
export function writeConfig(dir: string, config: unknown, name = 'gateway.json'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return file;
}

/** A configuration for simulated devices on `ports` (the default EPIC rack). */
export function fleetConfig(
  ports: readonly number[],
  options: { periodMs?: number; edgeNodeId?: string; groupId?: string; uptime?: boolean } = {},
): Record<string, unknown> {
  const periodMs = options.periodMs ?? 100;
  return {
    sparkplug: { groupId: options.groupId ?? 'Test', edgeNodeId: options.edgeNodeId ?? 'gw' },
    defaults: { timeoutMs: 1_000 },
    devices: ports.map((port, i) => ({
      name: `epic-${i + 1}`,
      host: '127.0.0.1',
      port,
      groups: [
        {
          name: 'io',
          periodMs,
          points: [
            { kind: 'analog-module', module: 2, channels: 4, name: 'AI' },
            { kind: 'digital-module', module: 0, channels: 4, name: 'DO', writable: true },
            { kind: 'analog', module: 3, channel: 0, name: 'AO/0', writable: true },
            { kind: 'digital', module: 1, channel: 0, name: 'DI/0' },
          ],
        },
        ...(options.uptime === false
          ? []
          : [
              { name: 'clock', periodMs, report: 'every-scan', points: [{ kind: 'uptime', name: 'Uptime' }] },
            ]),
      ],
    })),
  };
}
