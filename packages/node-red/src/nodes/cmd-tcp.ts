// Node-RED entry point of the cmd-tcp nodes (package.json "node-red".nodes). Node-RED require()s this file
// and calls its export with `RED`; the build makes the function the module's export itself.

import { registerCmdTcpNodes } from '../cmd-tcp/nodes';

export default registerCmdTcpNodes;
