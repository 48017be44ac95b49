/**
 * Sluice's Redis store: buckets shared across nodes in Redis or Redis Cluster, decided by one
 * Lua script in one round trip at Redis's clock. See {@link dev.sluice.redis.RedisStore}.
 *
 * <p>Lettuce is part of this module's API (a factory takes a Lettuce client), so it is required
 * transitively; it is an automatic module.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.sluice.redis {
  requires transitive dev.sluice.core;
  requires transitive lettuce.core;

  exports dev.sluice.redis;
}
