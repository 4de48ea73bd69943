// The gateway's errors, LabwireErrors like the libraries' (brand, stable `code`, `isInstance`). Kept apart
// from the modules that use them so the command line can recognise them without loading those.

import { LabwireError } from '@labwire/framing';

export interface ConfigIssue {
  path: string;
  message: string;
}

/** The configuration file does not parse, or fields are wrong; `issues` names each by its path. */
export class GatewayConfigError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.GatewayConfigError');
  readonly issues: readonly ConfigIssue[];

  constructor(issues: ConfigIssue[], source?: string, options: { cause?: unknown } = {}) {
    const shown = issues.slice(0, 5).map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`));
    const more = issues.length > 5 ? `; and ${issues.length - 5} more` : '';
    super(
      'GatewayConfigInvalid',
      `configuration${source === undefined ? '' : ` ${source}`} is invalid: ${shown.join('; ')}${more}`,
      options,
    );
    this.issues = issues;
  }
}

/** A DCMD/NCMD metric the gateway will not write: not a writable point, or a value that does not fit. */
export class WriteRefusedError extends LabwireError {
  static override readonly brand: symbol = Symbol.for('labwire.error.WriteRefusedError');
  readonly deviceId: string | undefined;
  readonly metric: string;
  constructor(deviceId: string | undefined, metric: string, why: string) {
    super(
      'GatewayWriteRefused',
      `${deviceId === undefined ? 'NCMD' : `DCMD ${deviceId}`}: ${JSON.stringify(metric)} not written: ${why}`,
    );
    this.deviceId = deviceId;
    this.metric = metric;
  }
}
