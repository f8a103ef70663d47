import type { ExportJob, ExportJobStatus, ExportJobStore } from '../store.js';
import type { SqlDriver, SqlValue } from './driver.js';

interface Row {
  id: string;
  status: string;
  base: string;
  owner: string;
  request: string;
  params: string;
  transaction_time: number | string;
  created: number | string;
  updated: number | string;
  heartbeat: number | string | null;
  node: string | null;
  attempts: number | string;
  progress: string | null;
  output: string | null;
  error: string | null;
  expires: number | string | null;
}

/**
 * Bulk export jobs in the SQL store (migration 4, `export_job`). Every node reads and
 * claims them here, so any node answers a status request and a job whose node died is
 * taken up again. Claims and updates are conditional updates: of two nodes, one wins.
 */
export class SqlExportJobStore implements ExportJobStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly clock: () => number,
  ) {}

  async create(job: ExportJob): Promise<void> {
    await this.write(
      'INSERT INTO export_job (id, status, base, owner, request, params, transaction_time, created, updated, attempts, node, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [job.id, job.status, job.base, job.owner, job.request, JSON.stringify(job.params), job.transactionTime, job.created, job.updated, job.attempts, job.node ?? null, job.heartbeat ?? null],
    );
  }

  async get(id: string): Promise<ExportJob | undefined> {
    const row = await this.driver.reader.get<Row>('SELECT * FROM export_job WHERE id = ?', [id]);
    return row ? toJob(row) : undefined;
  }

  async claim(node: string, staleBefore: number): Promise<ExportJob | undefined> {
    const claimable = "(status = 'queued' OR (status = 'running' AND (heartbeat IS NULL OR heartbeat < ?)))";
    return this.driver.transaction(async (conn) => {
      const candidate = await conn.get<{ id: string }>(`SELECT id FROM export_job WHERE ${claimable} ORDER BY created LIMIT 1`, [staleBefore]);
      if (!candidate) return undefined;
      const now = this.clock();
      const n = await conn.run(`UPDATE export_job SET status = 'running', node = ?, heartbeat = ?, updated = ?, attempts = attempts + 1 WHERE id = ? AND ${claimable}`, [node, now, now, candidate.id, staleBefore]);
      if (!n) return undefined;
      const row = await conn.get<Row>('SELECT * FROM export_job WHERE id = ?', [candidate.id]);
      return row ? toJob(row) : undefined;
    });
  }

  async update(id: string, node: string, changes: Parameters<ExportJobStore['update']>[2]): Promise<boolean> {
    const sets: string[] = ['updated = ?'];
    const values: SqlValue[] = [this.clock()];
    const put = (column: string, value: SqlValue) => {
      sets.push(`${column} = ?`);
      values.push(value);
    };
    if (changes.status !== undefined) put('status', changes.status);
    if (changes.heartbeat !== undefined) put('heartbeat', changes.heartbeat);
    if (changes.progress !== undefined) put('progress', changes.progress);
    if (changes.output !== undefined) put('output', JSON.stringify(changes.output));
    if (changes.error !== undefined) put('error', changes.error);
    if (changes.expires !== undefined) put('expires', changes.expires);
    return (await this.write(`UPDATE export_job SET ${sets.join(', ')} WHERE id = ? AND node = ? AND status = 'running'`, [...values, id, node])) > 0;
  }

  async cancel(id: string, expires: number): Promise<boolean> {
    return (await this.write("UPDATE export_job SET status = 'cancelled', expires = ?, updated = ? WHERE id = ?", [expires, this.clock(), id])) > 0;
  }

  async remove(id: string): Promise<boolean> {
    return (await this.write('DELETE FROM export_job WHERE id = ?', [id])) > 0;
  }

  async expired(now: number): Promise<ExportJob[]> {
    return (await this.driver.reader.all<Row>("SELECT * FROM export_job WHERE status <> 'running' AND status <> 'queued' AND expires IS NOT NULL AND expires <= ?", [now])).map(toJob);
  }

  private write(sql: string, params: SqlValue[]): Promise<number> {
    return this.driver.transaction((conn) => conn.run(sql, params));
  }
}

function toJob(row: Row): ExportJob {
  const job: ExportJob = {
    id: row.id,
    status: row.status as ExportJobStatus,
    base: row.base,
    owner: row.owner,
    request: row.request,
    params: JSON.parse(row.params) as Record<string, unknown>,
    transactionTime: Number(row.transaction_time),
    created: Number(row.created),
    updated: Number(row.updated),
    attempts: Number(row.attempts),
  };
  if (row.heartbeat !== null) job.heartbeat = Number(row.heartbeat);
  if (row.node !== null) job.node = row.node;
  if (row.progress !== null) job.progress = row.progress;
  if (row.output !== null) job.output = JSON.parse(row.output) as unknown;
  if (row.error !== null) job.error = row.error;
  if (row.expires !== null) job.expires = Number(row.expires);
  return job;
}
