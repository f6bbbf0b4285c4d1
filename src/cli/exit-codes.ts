/**
 * What `rstar` exit codes mean. Scripts may rely on these.
 * 0 success; 1 finished, but some input records were malformed (each is reported where it stood);
 * 2 bad usage or unusable input (flags, missing or unreadable file); 3 the environment lacks something
 * (no suitable Python, unreachable server); 70 an internal error (a bug: please report it); 130 interrupted (Ctrl-C),
 * with everything finished so far kept.
 */
export const ExitCode = {
    ok: 0,
    someRecordsMalformed: 1,
    usage: 2,
    environment: 3,
    internal: 70,
    interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
