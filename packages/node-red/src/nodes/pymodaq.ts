// Node-RED entry point of the pymodaq nodes (package.json "node-red".nodes). Node-RED require()s this file
// and calls its export with `RED`; the build makes the function the module's export itself.

import { registerPymodaqNodes } from '../pymodaq/nodes';

export default registerPymodaqNodes;
