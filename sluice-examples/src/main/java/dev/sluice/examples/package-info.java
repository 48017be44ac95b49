/**
 * The Sluice demo server: an HTTP API on embedded Jetty 12 with
 * {@link dev.sluice.servlet.RateLimitFilter} in front of it, and a page that shows the bucket
 * draining and refilling. Start it with {@link dev.sluice.examples.DemoServer#main}.
 */
package dev.sluice.examples;
