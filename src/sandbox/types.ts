/** What a program run produced. A failing program is a result, not an exception. */
export interface ExecResult {
    /** False when the observation is an error (the program raised, timed out, broke a limit or crashed its worker). */
    ok: boolean;
    /** The rStar observation: stdout, or the value of a final bare expression, or `ErrorType: message`; elided and stripped. */
    observation: string;
    /** The error's Python type name and message, or null when ok. Sandbox-made types: TimeoutError, WorkerCrashed, OutputLimitError. */
    error: ExecError | null;
    /** True when the wall-clock or CPU time limit stopped the program. */
    timedOut: boolean;
    /** Milliseconds from the program reaching the head of its worker's pipeline (the worker starting it) to its answer; queueing not included. */
    durationMs: number;
}

export interface ExecError {
    type: string;
    message: string;
}

export interface RunOptions {
    /** Wall-clock limit for this program in milliseconds; default: the sandbox's timeoutMs. */
    timeoutMs?: number;
    /** CPU-time limit for this program in milliseconds; default: the sandbox's cpuMs. */
    cpuMs?: number;
}

/** Switches for the isolation layers; each defaults to true, meaning "use it where the platform has it". */
export interface IsolationSwitches {
    /** Linux network + PID + mount namespaces via `unshare` (plus a user namespace when not root). */
    namespaces?: boolean;
    /** When root: the worker drops to nobody (65534) after preparing its scratch root. */
    dropPrivileges?: boolean;
    /** Landlock: reads limited to system and Python directories, writes to the scratch root, no TCP, no signals out. */
    landlock?: boolean;
    /** Python audit hook denying processes, sockets, ctypes, signals and writes outside scratch while a program runs. */
    auditHook?: boolean;
}

export interface SandboxOptions {
    /** Number of busy-capable workers. Default: os.availableParallelism(). */
    workers?: number;
    /** Extra warm workers kept ready so that replacing a recycled or dead worker costs no latency. Default: 1. */
    spares?: number;
    /** Wall-clock limit per program, milliseconds. Default: 10000. */
    timeoutMs?: number;
    /** CPU-time limit per program, milliseconds. Default: timeoutMs. */
    cpuMs?: number;
    /** Extra milliseconds after timeoutMs before the worker's process group is killed from outside. Default: 1000. */
    graceMs?: number;
    /** Memory a program may allocate on top of the warm worker's own address space, bytes. Default: 1 GiB. */
    memoryBytes?: number;
    /** Largest file a program may write (RLIMIT_FSIZE), bytes. Default: 64 MiB. */
    fileSizeBytes?: number;
    /** Open file descriptors per worker (RLIMIT_NOFILE). Default: 256. */
    openFiles?: number;
    /** Characters a program may write to stdout and stderr (each) before it is stopped with OutputLimitError. Default: 8 MiB. */
    maxOutputChars?: number;
    /** Observation length: longer text keeps its first half and last half around "...". Default: 1024 (as rStar). */
    observationChars?: number;
    /** Shorten output that parses as a float to 4 decimals when shorter, as rStar does. Default: true. */
    evalfRounding?: boolean;
    /** Seed given to `random` and `numpy.random` before every program (programs are deterministic). Default: 0. */
    seed?: number;
    /** Python interpreter. Default: findPython with modules ["sympy", "numpy"] ($RSTAR_PYTHON, python3, /usr/bin/python3). */
    python?: string;
    /** Modules imported once per worker before any program. Default: ["sympy", "numpy"]. */
    preload?: string[];
    /** Recycle (replace) a worker after this many programs, as defence in depth. Default: 1000. */
    recycleAfter?: number;
    /** Milliseconds a worker may take to start (import sympy and numpy). Default: 60000. */
    startTimeoutMs?: number;
    /** Extra environment variables for workers; nothing else of the caller's environment reaches them. */
    env?: Record<string, string>;
    /** Programs sent to one worker before it answers the first (one pipe write for all; no waiting between them). Default: 4. */
    pipeline?: number;
    /**
     * Prefix reuse: a worker keeps the namespace a program left, and a later program that is that program plus a
     * newline and new code runs only the new code on a copy of it, with the observation full re-execution gives
     * (see docs/sandbox.md for when it falls back to a full run). Default: true.
     */
    prefixReuse?: boolean;
    /** Programs whose end state each worker keeps for prefix reuse (least recently used go first; 0: off). Default: 32. */
    prefixCache?: number;
    /** Turn isolation layers off (for debugging or tests). */
    isolation?: IsolationSwitches;
}

/** Which isolation layers are active, as measured on the first worker. */
export interface IsolationReport {
    platform: string;
    /** Namespaces the workers run in; empty when `unshare` is unavailable or disabled. */
    namespaces: string[];
    /** Why namespaces are not used, when they are not. */
    namespacesUnavailable: string | null;
    /** The uid programs run as (65534 when root was dropped), or null when unknown. */
    uid: number | null;
    /** Why root was kept, when it was. */
    privilegesKept: string | null;
    /** Landlock ABI in force (0: none), and whether it also blocks TCP and signals. */
    landlock: { abi: number; network: boolean; signals: boolean; reason: string | null };
    /** Resource limits the worker set on itself (bytes or counts). */
    rlimits: Record<string, number>;
    auditHook: boolean;
    python: string;
}

export interface SandboxStats {
    /** Programs answered (any outcome). */
    completed: number;
    /** Programs waiting for a worker now. */
    queued: number;
    /** Programs sent to workers and not answered yet (the running ones and those pipelined behind them). */
    running: number;
    /** Workers started in total, the first ones included. */
    workersStarted: number;
    /** Workers retired because a program may have changed their state (or after recycleAfter programs). */
    recycled: number;
    /** Workers that died or were killed while running a program (crash, hard timeout, protocol violation). */
    crashed: number;
    timedOut: number;
    /** Programs that ran only their new code on a cached prefix's namespace (prefix reuse). */
    reused: number;
    /** Reasons for recycling, with counts. */
    recycleReasons: Record<string, number>;
    /** Mean milliseconds inside the worker: program run, and the taint check after it. */
    meanExecMs: number;
    meanCheckMs: number;
}

export interface Sandbox extends AsyncDisposable {
    run(code: string, options?: RunOptions): Promise<ExecResult>;
    stats(): SandboxStats;
    readonly isolation: IsolationReport;
    dispose(): Promise<void>;
}
