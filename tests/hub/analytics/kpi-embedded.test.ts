// Governance KPIs on the embedded TimescaleDB (WASM), in memory.
import { embeddedTimescale } from './engines.js';
import { kpiSuite } from './kpi-suite.js';

kpiSuite('embedded TimescaleDB', embeddedTimescale);
