export { splitAt } from '@labwire/framing';
export {
  arbBytes,
  arbChunkedBytes,
  arbChunking,
  arbCuts,
  arbDelimitedMessages,
  arbDelimiter,
  arbFaultTiming,
} from './arbitraries';
export { chunkEvery, randomChunks, streamOf, writeChunks } from './chunkers';
export { FaultProxy, type FaultProxyOptions, type FaultSettings } from './fault-proxy';
export { type HangingLookup, hangingLookup, staticLookup } from './hanging-lookup';
export {
  type GarbagePeerOptions,
  SSH_BANNER,
  startGarbagePeer,
  startSshBannerPeer,
} from './hostile-peers';
export {
  type ConnectionHandler,
  LoopbackServer,
  type LoopbackServerOptions,
  type ServerConnection,
} from './loopback-server';
export {
  type MosquittoBroker,
  mosquittoAvailable,
  mosquittoBinary,
  startMosquitto,
} from './mosquitto';
export {
  failOnUnhandled,
  installProcessGuard,
  type ProcessGuard,
} from './process-guard';
export { randomInt, seededRandom } from './random';
export { type ReadmeExample, readmeExamples, runReadmeExample } from './readme-examples';
export { activeResources, resourcesLeftOver, TRANSPORT_RESOURCES } from './resources';
export {
  startEchoServer,
  startTaggingServer,
  type TaggingServer,
  type TaggingServerOptions,
  taggedRequest,
  tagOf,
} from './servers';
export { type StormWatch, watchForStorm } from './storm-watch';
export { nextEvent, settle, sleep, type WaitForOptions, waitFor, withDeadline } from './wait';
