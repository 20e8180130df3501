// Transactions on PostgreSQL that reserve their connection before BEGIN is sent.
import type postgres from "postgres";

type Sql = ReturnType<typeof postgres>;

/** What runs queries: the pool, or one transaction's connection. */
export type Querier = Sql | postgres.TransactionSql | postgres.ReservedSql;

/**
 * Runs `work` in one transaction, committed when it resolves and rolled back when it throws.
 * The connection is reserved first and BEGIN sent on it, instead of `sql.begin`: under load,
 * postgres.js 3.4.9 can write a `sql.begin`'s BEGIN on a connection it has not reserved
 * (when that BEGIN fills the connection's pipeline), which fails the request with
 * `UNSAFE_TRANSACTION` and can leave the transaction open on a connection back in the pool
 * (porsager/postgres#823, #1189). Seen here as 2–3 failed posts in 400 with 2,000 readers.
 */
export async function transaction<T>(sql: Sql, work: (tx: Querier) => Promise<T>): Promise<T> {
  const reserved = await sql.reserve();
  try {
    await reserved`BEGIN`;
    let result: T;
    try {
      result = await work(reserved);
    } catch (error) {
      await reserved`ROLLBACK`.catch(() => {});
      throw error;
    }
    await reserved`COMMIT`;
    return result;
  } finally {
    reserved.release();
  }
}
