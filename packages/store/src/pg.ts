// PostgreSQL connection pools for the service.
//
// Time is always UTC milliseconds in the service (PROTOCOL.md: "Times are
// integers"), and the schema keeps the seed's TIMESTAMP (without time zone)
// columns. So every connection runs with timezone=UTC, making NOW() and the
// stored values UTC, and timestamps come back as numbers read as UTC, never as
// Date objects interpreted in the host's local zone. The parsers live on each
// pool (the `types` option), not on pg's global registry, so other code in the
// process that uses pg keeps its defaults.

import pg from 'pg';
import type { CustomTypesConfig } from 'pg';
import { pino, type Logger } from 'pino';

export interface PgPoolOptions {
  /** postgres:// or postgresql:// URL. */
  connectionString: string;
  /** Maximum connections in the pool (default 10). */
  max?: number;
  /**
   * Shown in pg_stat_activity.application_name (default "whispr"). PostgreSQL
   * keeps the first 63 bytes; longer names (long node ids) are not an error.
   */
  applicationName?: string;
  /** Receives errors of idle connections; a default pino logger otherwise. */
  logger?: Logger;
  /**
   * Send queries without waiting for the previous answer (pg's pipeline mode).
   * For a connection that issues a whole transaction at once; not for sessions
   * that read one answer before choosing the next statement.
   */
  pipeline?: boolean;
}

const OID_INT8 = 20;
const OID_TIMESTAMP = 1114;
const OID_TIMESTAMPTZ = 1184;
const OID_INT8_ARRAY = 1016;
const OID_TIMESTAMP_ARRAY = 1115;
const OID_TIMESTAMPTZ_ARRAY = 1185;
const OID_TEXT_ARRAY = 1009;

const MAX_POOL_SIZE = 1000;

export function createPgPool(options: PgPoolOptions): pg.Pool {
  validatePoolOptions(options);
  const logger = options.logger ?? pino({ name: 'whispr-store', level: 'warn' });
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'whispr',
    options: '-c timezone=UTC',
    types: whisprTypes,
    ...(options.pipeline ? { pipeline: true } : {}),
  });
  // An idle client that loses its server (PostgreSQL restart, network cut)
  // emits 'error' on the pool; without a listener Node would crash the process.
  // The pool already discards that client, and the next query reconnects.
  pool.on('error', (err) => {
    logger.error({ err }, 'idle PostgreSQL connection failed');
  });
  return pool;
}

function validatePoolOptions(options: PgPoolOptions): void {
  const { connectionString, max, applicationName } = options;
  if (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\/./.test(connectionString)) {
    throw new TypeError('createPgPool: option "connectionString" must be a postgres:// or postgresql:// URL');
  }
  if (!URL.canParse(connectionString)) {
    throw new TypeError('createPgPool: option "connectionString" is not a valid URL');
  }
  if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > MAX_POOL_SIZE)) {
    throw new RangeError(`createPgPool: option "max" must be an integer from 1 to ${MAX_POOL_SIZE}, got ${String(max)}`);
  }
  if (applicationName !== undefined && (typeof applicationName !== 'string' || applicationName.length === 0)) {
    throw new TypeError('createPgPool: option "applicationName" must be a non-empty string');
  }
}

// "2026-11-25 00:49:03.123456", optionally " BC", optionally with an offset
// ("+00", "+05:30", "-03:00:00") for TIMESTAMPTZ.
const TIMESTAMP_TEXT =
  /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?( BC)?$/;

/** Parses PostgreSQL's text form of TIMESTAMP/TIMESTAMPTZ to ms since the epoch (UTC). */
export function parsePgTimestamp(text: string): number {
  if (text === 'infinity') return Number.POSITIVE_INFINITY;
  if (text === '-infinity') return Number.NEGATIVE_INFINITY;
  const m = TIMESTAMP_TEXT.exec(text);
  if (m === null) throw new Error(`unexpected PostgreSQL timestamp text: ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac, sign, oh, om, os, bc] = m;
  // Year 1 BC is year 0 in the proleptic calendar Date uses.
  const year = bc === undefined ? Number(y) : 1 - Number(y);
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(year, Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), frac === undefined ? 0 : Number(frac.padEnd(6, '0').slice(0, 3)));
  let ms = date.getTime();
  if (sign !== undefined) {
    const offsetSeconds = Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0);
    ms -= (sign === '-' ? -1 : 1) * offsetSeconds * 1000;
  }
  return ms;
}

/** Parses INT8 text, refusing values a JS number cannot hold exactly. */
export function parsePgInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`INT8 value ${text} is outside the safe integer range of a JS number`);
  }
  return n;
}

type Parser = (text: string) => unknown;
type TypeId = Parameters<typeof pg.types.getTypeParser>[0];
type ArrayTree = Array<string | null | ArrayTree>;

function arrayOf(parseElement: Parser): Parser {
  // text[]'s parser splits any array literal into (nested) strings and nulls.
  const parseTextArray = pg.types.getTypeParser(OID_TEXT_ARRAY as TypeId, 'text') as (text: string) => ArrayTree;
  const mapTree = (tree: ArrayTree): unknown[] =>
    tree.map((item) => (item === null ? null : Array.isArray(item) ? mapTree(item) : parseElement(item)));
  return (text) => mapTree(parseTextArray(text));
}

const textParsers = new Map<number, Parser>([
  [OID_INT8, parsePgInt8],
  [OID_TIMESTAMP, parsePgTimestamp],
  [OID_TIMESTAMPTZ, parsePgTimestamp],
  [OID_INT8_ARRAY, arrayOf(parsePgInt8)],
  [OID_TIMESTAMP_ARRAY, arrayOf(parsePgTimestamp)],
  [OID_TIMESTAMPTZ_ARRAY, arrayOf(parsePgTimestamp)],
]);

const whisprTypes: CustomTypesConfig = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    const own = format === 'binary' ? undefined : textParsers.get(oid);
    return own ?? pg.types.getTypeParser(oid, format);
  },
};

/**
 * A UTC literal for a TIMESTAMP column, e.g. '2026-11-25 00:49:03.123'.
 * Only years 0001-9999: the service never writes other dates, and
 * toISOString uses a six-digit signed year outside that range.
 */
export function toPgTimestamp(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) {
    throw new RangeError(`toPgTimestamp: ms must be a finite number of milliseconds, got ${String(ms)}`);
  }
  const iso = date.toISOString();
  if (!/^\d{4}-/.test(iso) || iso.startsWith('0000')) {
    throw new RangeError(`toPgTimestamp: ${ms} is outside years 0001-9999`);
  }
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}
