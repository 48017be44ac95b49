/**
 * Sluice's API: {@link dev.sluice.Limit} and {@link dev.sluice.Policy} say what to enforce,
 * {@link dev.sluice.TokenBucket} enforces it for one bucket, {@link dev.sluice.RateLimiter} for
 * many keys, and every request gets a {@link dev.sluice.Decision}.
 */
package dev.sluice;
