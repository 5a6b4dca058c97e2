// The pure parts of storage/database.ts: which failures are timeouts (the writer counts them
// apart), and when a server is used with TimescaleDB (issue 13, item 7: a plain server stays plain).
import { describe, expect, it } from 'vitest';
import { dbFailureKind, EMBEDDED_TIMEOUTS, isAbandonedQuery, SERVER_TIMEOUTS, timescaleDecision } from '../../storage/database.js';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('dbFailureKind', () => {
  it('calls our deadlines and the server’s timeouts timeouts, and everything else an error', () => {
    expect(dbFailureKind(new Error('Query read timeout'))).toBe('timeout');
    expect(dbFailureKind(new Error('timeout exceeded when trying to connect'))).toBe('timeout');
    expect(dbFailureKind(new Error('Connection terminated due to connection timeout'))).toBe('timeout');
    expect(dbFailureKind(pgError('57014', 'canceling statement due to statement timeout'))).toBe('timeout');
    expect(dbFailureKind(pgError('55P03', 'canceling statement due to lock timeout'))).toBe('timeout');
    expect(dbFailureKind(pgError('25P03', 'terminating connection due to idle-in-transaction timeout'))).toBe('timeout');
    expect(dbFailureKind(pgError('23505', 'duplicate key value violates unique constraint'))).toBe('error');
    expect(dbFailureKind(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).toBe('error');
    expect(dbFailureKind(new Error('Connection terminated unexpectedly'))).toBe('error');
    expect(dbFailureKind(null)).toBe('error');
  });

  it('knows which timeouts leave the statement running on the connection', () => {
    expect(isAbandonedQuery(new Error('Query read timeout'))).toBe(true);
    expect(isAbandonedQuery(pgError('57014', 'canceling statement due to statement timeout'))).toBe(false);
    expect(isAbandonedQuery(undefined)).toBe(false);
  });

  it('gives the server a chance to cancel before our own deadline', () => {
    expect(SERVER_TIMEOUTS.queryMs).toBeGreaterThan(SERVER_TIMEOUTS.statementMs);
    // The embedded engine has one connection: waiting for it is bounded like a statement.
    expect(EMBEDDED_TIMEOUTS.connectMs).toBe(EMBEDDED_TIMEOUTS.queryMs);
  });
});

describe('timescaleDecision', () => {
  it('uses TimescaleDB only where it is installed or can be: a server without the preload stays plain', () => {
    expect(timescaleDecision({ available: false, installed: false, preloaded: false })).toBe('plain-missing');
    // The package on the machine, the library not preloaded (the test harness's server): not even tried.
    expect(timescaleDecision({ available: true, installed: false, preloaded: false })).toBe('plain-not-preloaded');
    expect(timescaleDecision({ available: true, installed: false, preloaded: true })).toBe('create');
    // A role that may not read shared_preload_libraries: CREATE EXTENSION decides.
    expect(timescaleDecision({ available: true, installed: false, preloaded: null })).toBe('create');
    expect(timescaleDecision({ available: true, installed: true, preloaded: null })).toBe('use');
  });
});
