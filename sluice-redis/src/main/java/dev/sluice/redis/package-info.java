/**
 * The Redis store: {@link dev.sluice.redis.RedisStore} and its
 * {@link dev.sluice.redis.RedisStore.Factory}, for a {@link dev.sluice.RateLimiter} shared by
 * many nodes through Redis, Redis Cluster or Valkey.
 */
package dev.sluice.redis;
