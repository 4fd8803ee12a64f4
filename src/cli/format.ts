/** Format rows as a plain-text table with a header line. */
export function formatTable(headers: string[], rows: (string | number | null | undefined)[][]): string[] {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : String(cell))))];
  const widths = headers.map((_, column) => Math.min(60, Math.max(...cells.map((row) => (row[column] ?? '').length))));
  return cells.map((row) =>
    row
      .map((cell, column) => (cell.length > 60 ? `${cell.slice(0, 57)}...` : cell).padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** Format a date as `2026-12-04 20:15 UTC`, or an empty string. */
export function formatDate(date: Date | null | undefined): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
}

/** Return the line printed after a list cut at `limit` rows, with the total, so the reader knows more exist. */
export function formatCutNotice(limit: number, total: number): string {
  return `(the newest ${limit} of ${total} are shown; use --limit N to see more)`;
}
