// Fails the test during which an unhandled rejection or an uncaught exception happened (docs/protocols/tcpinterface.md G14).
import { failOnUnhandled } from '@labwire/testkit';
import { afterAll, afterEach } from 'vitest';

failOnUnhandled({ afterEach, afterAll });
