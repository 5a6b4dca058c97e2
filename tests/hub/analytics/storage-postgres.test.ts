// Storage and analytics on a real PostgreSQL server: by default a plain one started here (no
// TimescaleDB: the extras are off and the same queries answer through the time_bucket fallback);
// with TEST_DATABASE_URL, the server it names (a TimescaleDB server runs compression, retention
// and the continuous aggregate for real), in a scratch database.
import { postgresServer, postgresServerName } from './engines.js';
import { storageSuite } from './storage-suite.js';

storageSuite(postgresServerName, postgresServer);
