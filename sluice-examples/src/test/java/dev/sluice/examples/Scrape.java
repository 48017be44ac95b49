package dev.sluice.examples;

import java.util.Map;
import java.util.TreeMap;

/**
 * A Prometheus text exposition parsed into samples: {@code name{label="value",...}} (labels in
 * alphabetical order) to value. Enough for the demo's meters: no escapes in label values.
 */
final class Scrape {

  private final Map<String, Double> samples = new TreeMap<>();

  Scrape(String text) {
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      String series = line.substring(0, space);
      double value = Double.parseDouble(line.substring(space + 1));
      int brace = series.indexOf('{');
      if (brace < 0) {
        samples.put(series, value);
        continue;
      }
      Map<String, String> labels = new TreeMap<>();
      for (String pair : series.substring(brace + 1, series.length() - 1).split(",")) {
        int eq = pair.indexOf('=');
        labels.put(pair.substring(0, eq), pair.substring(eq + 2, pair.length() - 1));
      }
      samples.put(key(series.substring(0, brace), labels), value);
    }
  }

  private static String key(String name, Map<String, String> labels) {
    StringBuilder sb = new StringBuilder(name).append('{');
    labels.forEach((k, v) -> sb.append(k).append("=\"").append(v).append("\","));
    return sb.append('}').toString();
  }

  /**
   * The sample's value, or null if the registry does not have it.
   *
   * @param name the sample name, e.g. {@code sluice_decisions_total}
   * @param labels pairs: name, value, name, value...
   */
  Double get(String name, String... labels) {
    Map<String, String> l = new TreeMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      l.put(labels[i], labels[i + 1]);
    }
    return samples.get(key(name, l));
  }

  /** Every sample whose name starts with {@code prefix}, for failure messages. */
  String dump(String prefix) {
    StringBuilder sb = new StringBuilder();
    samples.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        sb.append(k).append(' ').append(v).append('\n');
      }
    });
    return sb.toString();
  }
}
