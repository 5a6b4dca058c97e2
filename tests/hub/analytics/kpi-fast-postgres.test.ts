// The KPI fast path against the raw path on a real plain PostgreSQL server (no TimescaleDB: the time_bucket fallback).
import { plainPostgres } from './engines.js';
import { kpiFastSuite } from './kpi-fast-suite.js';

kpiFastSuite('plain PostgreSQL', plainPostgres);
