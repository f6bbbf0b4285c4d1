/**
 * Ctrl-C (SIGINT) and SIGTERM handling for long commands: the first signal calls `onFirst` (stop after recording what
 * is finished); a second one exits at once with 130.
 *
 * The listeners stay registered (`on`, not `once`) until the returned function removes them: a dependency of
 * node-llama-cpp (signal-exit, via proper-lockfile) re-raises a signal when its own listeners are the only ones
 * left, which killed the process mid-way when our one-shot listener had just removed itself.
 */
export function onInterrupt(onFirst: (signal: NodeJS.Signals) => void): () => void {
    let count = 0;
    const listener = (signal: NodeJS.Signals) => {
        count += 1;
        if (count === 1) onFirst(signal);
        else {
            process.stderr.write("\ninterrupted again: exiting now; the problems recorded so far are kept\n");
            process.exit(130);
        }
    };
    process.on("SIGINT", listener);
    process.on("SIGTERM", listener);
    return () => {
        process.off("SIGINT", listener);
        process.off("SIGTERM", listener);
    };
}
