import type pg from 'pg';

/** A pool or a checked-out client: anything that runs a query. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/** SQL turning a ms-since-epoch parameter into a UTC TIMESTAMP, whatever the session time zone. */
export const msToTimestamp = (param: string): string => `(to_timestamp(${param}::float8 / 1000.0) AT TIME ZONE 'UTC')`;
