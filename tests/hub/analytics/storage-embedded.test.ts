// Storage and analytics on the embedded TimescaleDB (WASM), in memory.
import { embeddedTimescale } from './engines.js';
import { storageSuite } from './storage-suite.js';

storageSuite('embedded TimescaleDB', embeddedTimescale);
