/**
 * Sluice for Spring Boot: the {@code sluice.*} properties ({@link
 * dev.sluice.spring.boot.SluiceProperties}), the limits built from them ({@link
 * dev.sluice.spring.boot.Sluice}) and their auto-configuration ({@link
 * dev.sluice.spring.boot.SluiceAutoConfiguration}).
 */
package dev.sluice.spring.boot;
