/** Binds Sluice's {@link dev.sluice.RateLimitListener} to Micrometer meters. */
module dev.sluice.micrometer {
  requires transitive dev.sluice.core;
  requires static transitive micrometer.core;
  exports dev.sluice.micrometer;
}
