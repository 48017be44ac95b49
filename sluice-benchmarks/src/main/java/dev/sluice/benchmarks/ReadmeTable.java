package dev.sluice.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the JMH CSV results written by {@code run-readme-table.sh} into the README's markdown
 * tables, with the goals of the issue as ratios computed from the same run. Not a benchmark.
 *
 * <pre>
 * java -cp sluice-benchmarks/target/benchmarks.jar dev.sluice.benchmarks.ReadmeTable DIR
 * </pre>
 * where {@code DIR} holds {@code single-t1.csv}, {@code single-t2.csv}, {@code keyed-t1.csv} and
 * {@code keyed-t2.csv} (JMH {@code -rf csv}, with {@code -prof gc}).
 */
public final class ReadmeTable {

  private ReadmeTable() {}

  /** One score: mean, 99.9% error half-width. */
  private record Score(double mean, double error) {
    String format() {
      return Double.isNaN(error)
          ? String.format(Locale.ROOT, "%.1f", mean)
          : String.format(Locale.ROOT, "%.1f ± %.1f", mean, error);
    }
  }

  /** Scores keyed by "method|param" and allocation keyed the same way. */
  private static final class Results {
    final Map<String, Score> time = new LinkedHashMap<>();
    final Map<String, Double> bytes = new LinkedHashMap<>();
  }

  /**
   * Prints the tables.
   *
   * @param args the results directory
   * @throws IOException if a file cannot be read
   */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : ".");
    Results s1 = read(dir.resolve("single-t1.csv"));
    Results s2 = read(dir.resolve("single-t2.csv"));
    Results k1 = read(dir.resolve("keyed-t1.csv"));
    Results k2 = read(dir.resolve("keyed-t2.csv"));

    String[][] single = {
      {"nanoTime", "`System.nanoTime()` (floor)"},
      {"sluice", "**Sluice** `TokenBucket`"},
      {"bucket4jLockFree", "Bucket4j 8.19 lock-free"},
      {"bucket4jSynchronized", "Bucket4j 8.19 synchronized"},
      {"guava", "Guava 33.5 `RateLimiter`"},
      {"resilience4j", "Resilience4j 2.3 `AtomicRateLimiter`"},
    };
    String[] paths = {"allowed", "denied"};
    System.out.println("Single bucket, ns per decision (lower is better), B/op = bytes allocated per"
        + " decision (max over the four columns):");
    System.out.println();
    System.out.println("| limiter | allowed, 1 thread | allowed, 2 threads | denied, 1 thread"
        + " | denied, 2 threads | B/op |");
    System.out.println("|---|---:|---:|---:|---:|---:|");
    for (String[] row : single) {
      StringBuilder line = new StringBuilder("| " + row[1] + " |");
      double alloc = 0;
      for (String path : paths) {
        for (Results r : List.of(s1, s2)) {
          String k = row[0] + "|" + path;
          line.append(' ').append(cell(r.time.get(k))).append(" |");
          alloc = Math.max(alloc, r.bytes.getOrDefault(k, 0.0));
        }
      }
      line.append(' ').append(row[0].equals("nanoTime") ? "" : bytes(alloc)).append(" |");
      System.out.println(line);
    }
    System.out.println();

    String[][] keyed = {
      {KeyedLimiter.SLUICE, "**Sluice** `RateLimiter` (in-memory store)"},
      {KeyedLimiter.BUCKET4J_CHM, "Bucket4j buckets in a `ConcurrentHashMap`"},
      {KeyedLimiter.BUCKET4J_CAFFEINE, "Bucket4j buckets in Caffeine (max 1M, expire 1 h)"},
      {KeyedLimiter.GUAVA_CHM, "Guava limiters in a `ConcurrentHashMap`"},
      {KeyedLimiter.SLUICE_CAFFEINE, "(design study) Sluice holders in Caffeine"},
    };
    String[] limits = {"steady", "100/s"};
    System.out.println("100,000 keys at random, ns per decision (lower is better); steady = every key"
        + " present, never denied; 100/s = 100 per second, burst 100, per key; B/op = max over the"
        + " columns:");
    System.out.println();
    System.out.println("| limiter | steady, 1 thread | steady, 2 threads | 100/s, 1 thread"
        + " | 100/s, 2 threads | B/op steady | B/op 100/s |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|");
    for (String[] row : keyed) {
      StringBuilder line = new StringBuilder("| " + row[1] + " |");
      for (String limit : limits) {
        for (Results r : List.of(k1, k2)) {
          line.append(' ').append(cell(r.time.get(keyedKey(row[0], limit)))).append(" |");
        }
      }
      for (String limit : limits) {
        String k = keyedKey(row[0], limit);
        line.append(' ')
            .append(bytes(Math.max(k1.bytes.getOrDefault(k, 0.0), k2.bytes.getOrDefault(k, 0.0))))
            .append(" |");
      }
      System.out.println(line);
    }
    System.out.println();

    System.out.println("Goals (ratios within each run):");
    for (String path : paths) {
      for (int t = 1; t <= 2; t++) {
        Results r = t == 1 ? s1 : s2;
        Score floor = r.time.get("nanoTime|" + path);
        Score sluice = r.time.get("sluice|" + path);
        if (floor == null || sluice == null) {
          continue;
        }
        String closest = null;
        double best = Double.MAX_VALUE;
        for (String[] row : single) {
          Score c = r.time.get(row[0] + "|" + path);
          if (row[0].equals("nanoTime") || row[0].equals("sluice") || c == null) {
            continue;
          }
          if (c.mean() / sluice.mean() < best) {
            best = c.mean() / sluice.mean();
            closest = row[0];
          }
        }
        System.out.printf(Locale.ROOT,
            "- single %s, %d thread(s): Sluice / nanoTime = %.2fx (goal <= 1.5x: %s);"
                + " fastest competitor (%s) / Sluice = %.2fx (goal > 1: %s)%n",
            path, t, sluice.mean() / floor.mean(), sluice.mean() / floor.mean() <= 1.5 ? "met" : "MISSED",
            closest, best, best > 1 ? "met" : "MISSED");
      }
    }
    for (String limit : limits) {
      for (int t = 1; t <= 2; t++) {
        Results r = t == 1 ? k1 : k2;
        Score sluice = r.time.get(keyedKey(KeyedLimiter.SLUICE, limit));
        if (sluice == null) {
          continue;
        }
        String closest = null;
        double best = Double.MAX_VALUE;
        for (String[] row : keyed) {
          Score c = r.time.get(keyedKey(row[0], limit));
          if (row[0].equals(KeyedLimiter.SLUICE) || row[0].equals(KeyedLimiter.SLUICE_CAFFEINE)
              || c == null) {
            continue;
          }
          if (c.mean() / sluice.mean() < best) {
            best = c.mean() / sluice.mean();
            closest = row[0];
          }
        }
        System.out.printf(Locale.ROOT,
            "- keyed %s, %d thread(s): fastest competitor (%s) / Sluice = %.2fx (goal > 1: %s)%n",
            limit, t, closest, best, best > 1 ? "met" : "MISSED");
      }
    }
    String[][] allocationRows = {
      {"single bucket, allowed", "sluice|allowed"},
      {"single bucket, denied", "sluice|denied"},
      {"keyed, steady", keyedKey(KeyedLimiter.SLUICE, "steady")},
      {"keyed, 100/s", keyedKey(KeyedLimiter.SLUICE, "100/s")},
    };
    for (String[] row : allocationRows) {
      boolean isSingle = row[0].startsWith("single");
      double b = -1;
      for (Results r : isSingle ? List.of(s1, s2) : List.of(k1, k2)) {
        b = Math.max(b, r.bytes.getOrDefault(row[1], -1.0));
      }
      if (b >= 0) {
        System.out.printf(Locale.ROOT, "- Sluice bytes per decision, %s: %.3f (goal 0: %s)%n",
            row[0], b, b < 0.5 ? "met" : "MISSED");
      }
    }
  }

  private static String keyedKey(String impl, String limit) {
    return "tryAcquire|" + impl + "|" + limit;
  }

  private static String cell(Score s) {
    return s == null ? "n/a" : s.format();
  }

  private static String bytes(double b) {
    return String.format(Locale.ROOT, "%.0f", b);
  }

  /** Reads a JMH CSV; the key is the method name and the first parameter value. */
  private static Results read(Path file) throws IOException {
    Results results = new Results();
    if (!Files.exists(file)) {
      return results;
    }
    List<String> lines = Files.readAllLines(file);
    for (String line : lines.subList(1, lines.size())) {
      List<String> f = split(line);
      String bench = f.get(0);
      String param = String.join("|", f.subList(Math.min(7, f.size()), f.size()));
      String method = bench.substring(bench.lastIndexOf('.', bench.indexOf(':') < 0
          ? bench.length() : bench.indexOf(':')) + 1);
      String key = method.replace(":gc.alloc.rate.norm", "") + "|" + param;
      if (method.endsWith(":gc.alloc.rate.norm")) {
        results.bytes.put(key, Double.parseDouble(f.get(4)));
      } else if (!method.contains(":")) {
        results.time.put(key, new Score(Double.parseDouble(f.get(4)), parse(f.get(5))));
      }
    }
    return results;
  }

  private static double parse(String s) {
    return s.equals("NaN") ? Double.NaN : Double.parseDouble(s);
  }

  private static List<String> split(String line) {
    List<String> fields = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (char c : line.toCharArray()) {
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        fields.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    fields.add(cur.toString());
    return fields;
  }
}
