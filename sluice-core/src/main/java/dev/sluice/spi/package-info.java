/**
 * The storage SPI: where buckets live, and how a store applies the bucket function atomically.
 */
package dev.sluice.spi;
