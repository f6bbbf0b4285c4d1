/**
 * The complete environment of a worker: an allow-list, nothing inherited from the caller.
 * HOME and TMPDIR point into the worker's scratch root; thread pools are pinned to one thread so that
 * numpy starts no threads (and a worker's CPU use is one core).
 */
export function workerEnvironment(scratchRoot: string, extra: Record<string, string>): Record<string, string> {
    return {
        PATH: "/usr/bin:/bin",
        LANG: "C.UTF-8",
        LC_ALL: "C.UTF-8",
        HOME: scratchRoot,
        TMPDIR: scratchRoot,
        PYTHONHASHSEED: "0",
        PYTHONDONTWRITEBYTECODE: "1",
        PYTHONIOENCODING: "utf-8",
        PYTHONNOUSERSITE: "1",
        OPENBLAS_NUM_THREADS: "1",
        OMP_NUM_THREADS: "1",
        MKL_NUM_THREADS: "1",
        NUMEXPR_NUM_THREADS: "1",
        VECLIB_MAXIMUM_THREADS: "1",
        MPLBACKEND: "Agg",
        ...extra,
    };
}
