/**
 * The JMH suite and the memory mains: Sluice beside Bucket4j, Guava and Resilience4j, measured in
 * the same run. Each class carries its run command; {@code run-readme-table.sh} runs exactly what
 * the README table needs. Not published.
 */
package dev.sluice.benchmarks;
