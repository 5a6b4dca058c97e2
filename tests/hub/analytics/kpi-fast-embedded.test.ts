// The KPI fast path against the raw path on the embedded TimescaleDB (WASM), in memory.
import { embeddedTimescale } from './engines.js';
import { kpiFastSuite } from './kpi-fast-suite.js';

kpiFastSuite('embedded TimescaleDB', embeddedTimescale);
