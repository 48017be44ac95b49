/** Internals: the bucket arithmetic and holders. Not exported; not API. */
package dev.sluice.internal;
