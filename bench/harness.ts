/**
 * Tiny benchmark harness: every section measures its candidates side by side in one process run
 * and reports rates and ratios, so figures are comparable even on a noisy machine.
 */
export interface BenchRow {
    /** What was measured, e.g. "sandbox, depth 8". */
    name: string;
    /** Measured value and its unit, e.g. 4123 "steps/s". */
    value: number;
    unit: string;
    /** Optional: ratio against a named baseline row measured in the same run. */
    ratio?: { value: number; against: string };
}

export interface BenchSection {
    title: string;
    rows: BenchRow[];
    notes?: string[];
}

export type BenchModule = { title: string; run: () => Promise<BenchSection> };

/** Runs fn repeatedly for at least minMs (and minIterations), returns operations per second. */
export async function measureRate(fn: () => Promise<unknown> | unknown, options: { minMs?: number; minIterations?: number; opsPerCall?: number } = {}): Promise<number> {
    const minMs = options.minMs ?? 1500;
    const minIterations = options.minIterations ?? 5;
    const opsPerCall = options.opsPerCall ?? 1;
    // Warm-up: one call outside the timing.
    await fn();
    let iterations = 0;
    const start = process.hrtime.bigint();
    let elapsedMs = 0;
    while (elapsedMs < minMs || iterations < minIterations) {
        await fn();
        iterations += 1;
        elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    }
    return (iterations * opsPerCall * 1000) / elapsedMs;
}

export function formatSection(section: BenchSection): string {
    const lines = [`\n## ${section.title}`];
    const width = Math.max(...section.rows.map((row) => row.name.length), 10);
    for (const row of section.rows) {
        const value = row.value >= 100 ? row.value.toFixed(0) : row.value >= 1 ? row.value.toFixed(2) : row.value.toPrecision(3);
        const ratio = row.ratio ? `   ${row.ratio.value.toFixed(2)}x vs ${row.ratio.against}` : "";
        lines.push(`  ${row.name.padEnd(width)}  ${value.padStart(10)} ${row.unit}${ratio}`);
    }
    for (const note of section.notes ?? []) lines.push(`  note: ${note}`);
    return lines.join("\n");
}
