// PymodaqActuator: the remote side of PyMoDAQ's DAQ_Move_TCPServer. It identifies as `ACTUATOR`, sends
// `Infos` with a `units` child (PyMoDAQ 4.4.3+ takes the axis unit from it, docs/protocols/pymodaq.md §8.1), and runs the
// user's hardware handlers for the server's commands (docs/protocols/pymodaq.md §8.2):
//   move_abs / move_rel / move_home → move_done + position, for every move (the server does not poll
//     TCP actuators, §9 j), also when a move is stopped or fails;
//   get_actuator_value / check_position → position_is + position;
//   stop_motion → aborts the running move's signal (PyMoDAQ's own client ignores it, §9 h).
// Moves run one at a time in arrival order; position queries are answered while a move runs.

import { LimitExceededError } from '@labwire/framing';
import {
  defaultSettings,
  type LinkSession,
  PYMODAQ_FLAGS,
  type PymodaqClientEvents,
  type PymodaqClientOptions,
  PymodaqClientRole,
  SENT,
  type ServerMessage,
} from './client-role';
import type { Position } from './codec';
import { ClientCommand, ServerCommand } from './commands';
import { ProtocolError } from './errors';
import { findParameter, type ParameterNode, parameter } from './parameter-xml';

/** What a move handler gets besides its target. */
export interface MoveContext {
  /** Aborted by `stop_motion`, close(), a lost connection or the handler deadline: stop the hardware. */
  signal: AbortSignal;
  /** The actuator's unit (from its settings). */
  units: string;
  /** The unit the server attached to the target (gen C4/D DataActuator), if any. */
  targetUnits: string | undefined;
}

/**
 * The hardware side of an actuator. Handlers may be sync or async. A move handler returns (or resolves
 * to) the position reached, a finite number, or nothing, in which case `getActuatorValue()` is asked.
 */
export interface ActuatorHandlers {
  /** Moves to `target`; resolves when there, with the position reached (default: `getActuatorValue()`). */
  moveAbs(target: number, context: MoveContext): Promise<unknown> | unknown;
  /** Moves by `offset`. Default: `moveAbs(current + offset)`. */
  moveRel?(offset: number, context: MoveContext): Promise<unknown> | unknown;
  /** Moves home. Default: `moveAbs(0)`. */
  moveHome?(context: MoveContext): Promise<unknown> | unknown;
  /** The current position. Asked for `get_actuator_value` / `check_position` and after every move. */
  getActuatorValue(context: { signal: AbortSignal }): Promise<number> | number;
  /** Called on `stop_motion`, after the running move's signal was aborted. */
  stopMotion?(): Promise<void> | void;
}

function positionOf(result: unknown): number | undefined {
  return typeof result === 'number' ? result : undefined;
}

const NO_OPTIONS = Object.freeze({});

/** Abort reason of a move ended by `stop_motion`. */
const STOPPED = Object.freeze({ reason: 'stop_motion' });

interface MoveJob {
  command: 'move_abs' | 'move_rel' | 'move_home';
  value: number | undefined;
  targetUnits: string | undefined;
  link: LinkSession;
}

export class PymodaqActuator extends PymodaqClientRole<
  PymodaqClientEvents & {
    /** A move finished (reached, stopped or failed) and `move_done` was sent. */
    moveDone: [
      { command: 'move_abs' | 'move_rel' | 'move_home'; target: number | undefined; position: number },
    ];
  }
> {
  readonly #handlers: ActuatorHandlers;
  #units: string;
  readonly #moves: MoveJob[] = [];
  readonly #maxPendingMoves: number;
  #moving = false;
  /** Last position reported, the fallback when the hardware cannot be asked. */
  #lastPosition = 0;

  constructor(
    options: PymodaqClientOptions & {
      handlers: ActuatorHandlers;
      /** The actuator unit, sent as the `units` child of `Infos` and with every position (C4/D). Default ''. */
      units?: string;
      /**
       * Moves asked for and not yet answered, at most (they run one at a time). One more is dropped and
       * reported as an `error` (LimitExceededError); the server's move deadline ends its wait. Default 64.
       */
      maxPendingMoves?: number;
    },
  ) {
    const units =
      options.units ?? findParameter(options.settings ?? defaultSettings(), ['units'])?.value ?? '';
    super(
      'ACTUATOR',
      options,
      defaultSettings([
        parameter('units', { type: 'str', title: 'Units', value: units, attributes: PYMODAQ_FLAGS }),
      ]),
    );
    this.#handlers = options.handlers;
    this.#maxPendingMoves = options.maxPendingMoves ?? 64;
    this.#units = units;
    // A user-supplied settings tree gets the units child PyMoDAQ 4.4.3+ reads (docs/protocols/pymodaq.md §9 m).
    const root = this.settings;
    const existing = findParameter(root, ['units']);
    if (existing === undefined)
      root.children.push(
        parameter('units', { type: 'str', title: 'Units', value: units, attributes: PYMODAQ_FLAGS }),
      );
    else existing.value = units;
  }

  /** The unit sent with positions. Changed by the server through `set_info` on `units`. */
  get units(): string {
    return this.#units;
  }

  /** Whether a move is running. */
  get moving(): boolean {
    return this.#moving;
  }

  /** @internal */
  protected override onSettingChanged(path: readonly string[], node: ParameterNode): void {
    if (path.length === 1 && path[0] === 'units') this.#units = node.value ?? '';
  }

  /** @internal */
  protected override onClose(): void {
    this.#moves.length = 0;
  }

  /** @internal */
  protected override onLinkLost(link: LinkSession): void {
    // Moves not started yet were asked on that connection; nobody waits for them any more.
    for (let i = this.#moves.length - 1; i >= 0; i--)
      if (this.#moves[i]!.link === link) this.#moves.splice(i, 1);
  }

  /** @internal */
  protected handle(message: ServerMessage, link: LinkSession): void {
    switch (message.command) {
      case ServerCommand.moveAbs:
      case ServerCommand.moveRel: {
        if (!this.#roomForMove(message.command)) return;
        const { position } = message as { position: Position };
        this.#moves.push({
          command: message.command,
          value: position.value,
          targetUnits: position.units,
          link,
        });
        this.#pumpMoves();
        return;
      }
      case ServerCommand.moveHome:
        if (!this.#roomForMove(message.command)) return;
        this.#moves.push({ command: 'move_home', value: undefined, targetUnits: undefined, link });
        this.#pumpMoves();
        return;
      case ServerCommand.getActuatorValue:
      case ServerCommand.checkPosition:
        void this.#answerPosition(link);
        return;
      case ServerCommand.stopMotion:
        void this.#stopMotion(link);
        return;
      default:
        this.reportError(new ProtocolError(`${message.command} is not an actuator command; ignored`));
    }
  }

  /** Whether one more move may wait; otherwise it is dropped and reported (LimitExceededError). */
  #roomForMove(command: string): boolean {
    const owed = this.#moves.length + (this.#moving ? 1 : 0);
    if (owed < this.#maxPendingMoves) return true;
    this.reportError(
      new LimitExceededError(
        `pymodaq actuator: ${command} dropped, moves pending`,
        this.#maxPendingMoves,
        owed + 1,
      ),
    );
    return false;
  }

  async #stopMotion(link: LinkSession): Promise<void> {
    // Queued moves are dropped, each still answered with move_done (the server waits for one per move).
    const dropped = this.#moves.splice(0);
    link.controller('move').abort(STOPPED);
    try {
      await this.runHandler('stopMotion', link, 'stop', () => this.#handlers.stopMotion?.());
    } catch (e) {
      this.reportError(e);
    }
    for (const job of dropped) await this.#reportMove(job, await this.#currentPosition(job.link));
  }

  /**
   * Runs the queued moves one at a time, in order. A handler that answers synchronously with the position
   * reached is reported at once, without an async frame (moves are the actuator's hot path); anything
   * else continues in #finishMove, which resumes the queue afterwards.
   */
  #pumpMoves(): void {
    if (this.#moving) return;
    this.#moving = true;
    for (let job = this.#moves.shift(); job !== undefined; job = this.#moves.shift()) {
      if (!job.link.live || this.isClosed) continue;
      const signal = job.link.controller('move').signal;
      let run: unknown;
      try {
        // runHandler calls #runJob at once, which takes the job from #job (no closure per move).
        this.#job = job;
        run = this.runHandler(job.command, job.link, 'move', this.#runJob);
      } catch (e) {
        run = Promise.reject(e);
      } finally {
        this.#job = undefined;
      }
      if (typeof run === 'number' && Number.isFinite(run)) {
        this.#lastPosition = run;
        this.#reportMoveNow(job, run);
        continue;
      }
      void this.#finishMove(job, signal, run);
      return;
    }
    this.#moving = false;
  }

  /** The rest of a move that did not end synchronously; then the queue goes on. */
  async #finishMove(job: MoveJob, signal: AbortSignal, run: unknown): Promise<void> {
    try {
      let reached: unknown;
      try {
        reached = await run;
      } catch (e) {
        // Stopped or failed: the move still ends with move_done and where the stage is (§9 j).
        if (signal.reason !== STOPPED && job.link.live && !this.closedSignal.aborted) this.reportError(e);
      }
      let position: number;
      if (typeof reached === 'number' && Number.isFinite(reached)) {
        position = reached;
        this.#lastPosition = reached;
      } else {
        position = await this.#currentPosition(job.link);
      }
      await this.#reportMove(job, position);
    } finally {
      this.#moving = false;
    }
    this.#pumpMoves();
  }

  /** Sends `move_done` without waiting for it to be written (the link keeps sends in order). */
  #reportMoveNow(job: MoveJob, position: number): void {
    if (!job.link.live) return;
    const p = this.profile;
    const sent = this.send(
      [p.encodeCommandPosition(ClientCommand.moveDone, position, this.#units)],
      NO_OPTIONS,
      job.link,
    );
    const listened = this.listenerCount('moveDone') > 0;
    if (sent === SENT && !listened) return;
    const failed = (e: unknown) => {
      if (job.link.live) this.reportError(e);
    };
    if (!listened) sent.catch(failed);
    else
      sent.then(
        () => this.emitSafe('moveDone', { command: job.command, target: job.value, position }),
        failed,
      );
  }

  /** The move runHandler is starting (set around the synchronous call in #pumpMoves). */
  #job: MoveJob | undefined;
  readonly #runJob = (signal: AbortSignal): Promise<number | undefined> | number | undefined =>
    this.#runMove(this.#job!, signal);

  /** Runs the move handler; stays synchronous when the handler is (no promise, no timer). */
  #runMove(job: MoveJob, signal: AbortSignal): Promise<number | undefined> | number | undefined {
    const h = this.#handlers;
    const context: MoveContext = { signal, units: this.#units, targetUnits: job.targetUnits };
    let result: unknown;
    switch (job.command) {
      case 'move_abs':
        result = h.moveAbs(job.value!, context);
        break;
      case 'move_rel':
        if (h.moveRel) result = h.moveRel(job.value!, context);
        else {
          // The client computes the new absolute position (docs/protocols/pymodaq.md §8.2).
          const here = h.getActuatorValue({ signal });
          result =
            here instanceof Promise
              ? here.then((at) => h.moveAbs(at + job.value!, context))
              : h.moveAbs(here + job.value!, context);
        }
        break;
      case 'move_home':
        result = h.moveHome ? h.moveHome(context) : h.moveAbs(0, context);
        break;
    }
    return result instanceof Promise ? result.then(positionOf) : positionOf(result);
  }

  async #reportMove(job: MoveJob, position: number): Promise<void> {
    if (!job.link.live) return;
    const p = this.profile;
    try {
      await this.send([p.encodeCommandPosition(ClientCommand.moveDone, position, this.#units)], {}, job.link);
      this.emitSafe('moveDone', { command: job.command, target: job.value, position });
    } catch (e) {
      if (job.link.live) this.reportError(e);
    }
  }

  async #answerPosition(link: LinkSession): Promise<void> {
    const position = await this.#currentPosition(link);
    if (!link.live) return;
    const p = this.profile;
    try {
      await this.send([p.encodeCommandPosition(ClientCommand.positionIs, position, this.#units)], {}, link);
    } catch (e) {
      if (link.live) this.reportError(e);
    }
  }

  /** The hardware's position, or the last known one when asking fails (reported as an error). */
  async #currentPosition(link: LinkSession): Promise<number> {
    try {
      const value = await this.runHandler('getActuatorValue', link, 'query', (signal) =>
        this.#handlers.getActuatorValue({ signal }),
      );
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new ProtocolError(`getActuatorValue returned ${String(value)}, not a finite number`);
      }
      this.#lastPosition = value;
    } catch (e) {
      if (link.live) this.reportError(e);
    }
    return this.#lastPosition;
  }
}
