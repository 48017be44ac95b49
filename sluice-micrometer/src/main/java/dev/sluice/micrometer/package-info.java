/** Micrometer meters for Sluice limiters: {@link dev.sluice.micrometer.SluiceMetrics}. */
package dev.sluice.micrometer;
