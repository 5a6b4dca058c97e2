// Storage and analytics on a real plain PostgreSQL server (no TimescaleDB): the extras are off
// and the same queries answer through the time_bucket fallback.
import { plainPostgres } from './engines.js';
import { storageSuite } from './storage-suite.js';

storageSuite('plain PostgreSQL', plainPostgres);
