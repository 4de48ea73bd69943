// What every node does when Node-RED closes it (a redeploy, a removal, a stop).

import type { RedNode } from './red';
import { reasonOf } from './status';

/**
 * On 'close': runs `close` (whatever the node must settle or release; `removed` is Node-RED's flag), then
 * clears the node's status (`clearStatus: false` for config nodes, which show none). A close that fails is reported as a warning.
 * Node-RED is told `done` in every case, so a redeploy never waits on a node that failed to close.
 */
export function onClose(
  node: RedNode,
  close: (removed: boolean) => Promise<unknown> | undefined,
  options: { clearStatus?: boolean } = {},
): void {
  node.on('close', (removed, done) => {
    const finish = () => {
      if (options.clearStatus !== false) node.status({});
      done();
    };
    const failed = (error: unknown) => {
      node.warn(`closing: ${reasonOf(error)}`);
      finish();
    };
    let closing: Promise<unknown> | undefined;
    try {
      closing = close(removed);
    } catch (error) {
      return failed(error);
    }
    if (closing === undefined) return finish();
    closing.then(finish, failed);
  });
}
