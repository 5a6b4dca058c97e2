// Governance KPIs on a real plain PostgreSQL server (no TimescaleDB: the time_bucket fallback).
import { plainPostgres } from './engines.js';
import { kpiSuite } from './kpi-suite.js';

kpiSuite('plain PostgreSQL', plainPostgres);
