/** One server URL and what the pool knows about its health and load. */
export interface Endpoint {
    /** Base URL, without a trailing slash, e.g. `http://127.0.0.1:8000/v1`. */
    readonly baseURL: string;
    /** Requests currently sent to this endpoint and not yet answered. */
    inFlight: number;
    /** Failures (connection errors, timeouts, retryable statuses) since the last success. */
    consecutiveFailures: number;
    /** Until when (epoch ms) the pool avoids this endpoint; 0 when it is healthy. */
    coolingUntil: number;
}

/**
 * Balances requests over several endpoints: least in-flight first (ties go to the one listed first), skipping an
 * endpoint that failed recently for a cool-down period. When every endpoint is cooling down, the one whose cool-down
 * ends first is used anyway, so a call never waits on the pool itself.
 */
export class EndpointPool {
    readonly endpoints: readonly Endpoint[];

    constructor(
        baseURLs: readonly string[],
        private readonly cooldownMs: number,
        private readonly now: () => number = Date.now,
    ) {
        this.endpoints = baseURLs.map((baseURL) => ({ baseURL, inFlight: 0, consecutiveFailures: 0, coolingUntil: 0 }));
    }

    pick(): Endpoint {
        const time = this.now();
        let best: Endpoint | undefined;
        for (const endpoint of this.endpoints) {
            if (endpoint.coolingUntil > time) continue;
            if (best === undefined || endpoint.inFlight < best.inFlight) best = endpoint;
        }
        if (best !== undefined) return best;
        let soonest = this.endpoints[0];
        for (const endpoint of this.endpoints) if (soonest === undefined || endpoint.coolingUntil < soonest.coolingUntil) soonest = endpoint;
        if (soonest === undefined) throw new Error("EndpointPool has no endpoints");
        return soonest;
    }

    markSuccess(endpoint: Endpoint): void {
        endpoint.consecutiveFailures = 0;
        endpoint.coolingUntil = 0;
    }

    /** Puts the endpoint on cool-down; with other endpoints available, the next pick avoids it. */
    markFailure(endpoint: Endpoint): void {
        endpoint.consecutiveFailures += 1;
        endpoint.coolingUntil = this.now() + this.cooldownMs;
    }
}
