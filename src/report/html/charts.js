// ECharts options for a cell's charts, from the model (never from the
// document). Readable without colour: marker lines carry labels, series
// carry patterns (ECharts' aria decals), axes carry units.

var COLORS = {
  expected: "#2e9e5b",
  failed: "#d1433f",
  outage: "rgba(209, 67, 63, 0.16)",
  innocent: "#2f6fd6",
  misbehaving: "#e08a12",
  memory: "#7b4fc9",
  cpu: "#0f8791",
  text: "#24292f",
  muted: "#57606a",
  grid: "#e4e7eb",
};

// How each kind of marker line is drawn; the label says what it is.
var MARKERS = {
  die: { color: "#8f1d1b", type: "solid", width: 2 },
  oom: { color: "#6b2fb3", type: "solid", width: 2 },
  kill: { color: "#b35900", type: "dashed", width: 1.5 },
  restart: { color: "#1f5fbf", type: "dashed", width: 1.5 },
  end: { color: "#24292f", type: "solid", width: 2 },
  fault: { color: "#3d444d", type: "dotted", width: 2 },
};

// Bars are capped at this many per chart; longer loads are summed into
// wider buckets.
var MAX_BARS = 600;

var STRIPES = {
  symbol: "rect",
  symbolSize: 1,
  dashArrayX: [1, 0],
  dashArrayY: [3, 4],
  rotation: -Math.PI / 4,
  color: "rgba(255, 255, 255, 0.55)",
};
var DOTS = { symbol: "circle", symbolSize: 0.6, dashArrayX: [[5, 5], [0, 5, 5, 0]], dashArrayY: [5, 0], color: "rgba(255, 255, 255, 0.6)" };
var SOLID = { symbol: "none" };

// A latency axis label: `1 ms`, `250 ms`, `2 s`.
function axisMs(ms) {
  if (ms >= 1000) {
    return Number((ms / 1000).toPrecision(3)) + " s";
  }
  return Number(ms.toPrecision(3)) + " ms";
}

function baseOption(description) {
  return {
    animation: false,
    aria: { enabled: true, decal: { show: true }, label: { description: description } },
    textStyle: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", color: COLORS.text },
    tooltip: { confine: true },
  };
}

// Seconds shown on a cell's time axes: from the start of the load to
// whichever ends last, the load or the timeline.
function timeSpan(cell) {
  var buckets = Math.max(cell.timeline.expected.length, cell.timeline.failed.length);
  var end = Math.max(cell.durationSecs || 0, buckets * cell.timeline.bucketSecs);
  return { from: 0, to: end > 0 ? end : 1 };
}

// A tick interval of 1, 2 or 5 x 10^n giving at most about ten ticks.
function niceStep(length) {
  var rough = length / 10;
  var power = Math.pow(10, Math.floor(Math.log10(rough)));
  var steps = [1, 2, 5, 10];
  for (var i = 0; i < steps.length; i++) {
    if (steps[i] * power >= rough) {
      return steps[i] * power;
    }
  }
  return 10 * power;
}

// A time axis from `span.from` to `span.to` rounded up to a whole tick.
function timeAxis(span, name) {
  var step = niceStep(Math.max(span.to - span.from, 0.001));
  return {
    type: "value",
    min: span.from,
    max: Number((Math.ceil(span.to / step - 1e-9) * step).toFixed(6)),
    interval: step,
    name: name,
    nameLocation: "middle",
    nameGap: 26,
    axisLabel: {
      hideOverlap: true,
      formatter: function (value) {
        return Number(value.toFixed(6)) + " s";
      },
    },
    splitLine: { show: false },
  };
}

// The timeline as bars: [[middle of bucket, count]...], buckets summed
// when there are more than MAX_BARS.
function timelineBars(cell) {
  var timeline = cell.timeline;
  var length = Math.max(timeline.expected.length, timeline.failed.length);
  var factor = Math.max(1, Math.ceil(length / MAX_BARS));
  var width = timeline.bucketSecs * factor;
  var expected = [];
  var failed = [];
  for (var start = 0; start < length; start += factor) {
    var ok = 0;
    var bad = 0;
    for (var i = start; i < Math.min(length, start + factor); i++) {
      ok += timeline.expected[i] || 0;
      bad += timeline.failed[i] || 0;
    }
    var middle = Number(((start / factor) * width + width / 2).toFixed(4));
    expected.push([middle, ok]);
    failed.push([middle, bad]);
  }
  return { expected: expected, failed: failed, widthSecs: width };
}

// The events worth a line on a time chart: deaths, OOM kills, kills and
// the restarts after a death, during the load; then the end of a server
// that went down or stopped answering.
function markerEvents(cell, span) {
  var markers = [];
  var sawDeath = false;
  var events = cell.events.slice().sort(function (a, b) {
    return a.at - b.at;
  });
  events.forEach(function (event) {
    var duringLoad = event.phase ? event.phase === "load" : event.at >= span.from && event.at <= span.to;
    if (event.action === "die" || event.action === "oom") {
      sawDeath = true;
    }
    if (!duringLoad) {
      return;
    }
    var kind = null;
    if (event.action === "die" || event.action === "oom" || event.action === "kill") {
      kind = event.action;
    } else if ((event.action === "start" && sawDeath) || event.action === "restart") {
      kind = "restart";
    }
    if (kind) {
      markers.push({ at: event.at, kind: kind, label: eventLabel(event) });
    }
  });
  var durability = cell.durability;
  if (durability.downAt !== null) {
    markers.push({ at: durability.downAt, kind: "end", label: "down for good" });
  }
  if (durability.unresponsiveSince !== null) {
    markers.push({ at: durability.unresponsiveSince, kind: "end", label: "unresponsive since" });
  }
  return mergeClose(markers, (span.to - span.from) / 150);
}

// Markers closer than `gap` seconds share one line and one label
// (`oom · die 137 (SIGKILL)`), so labels do not print over each other.
function mergeClose(markers, gap) {
  var merged = [];
  markers
    .slice()
    .sort(function (a, b) {
      return a.at - b.at;
    })
    .forEach(function (marker) {
      var last = merged[merged.length - 1];
      if (last && marker.at - last.at <= gap) {
        if (last.label.indexOf(marker.label) === -1) {
          last.label += " \u00b7 " + marker.label;
        }
        if (marker.kind === "die" || marker.kind === "oom" || marker.kind === "end") {
          last.kind = marker.kind;
        }
      } else {
        merged.push({ at: marker.at, kind: marker.kind, label: marker.label });
      }
    });
  return merged;
}

// Labels run along their line, so a long one is cut (the tooltip has it
// whole).
var LABEL_CHARS = 30;

function shortLabel(text) {
  return text.length > LABEL_CHARS ? text.slice(0, LABEL_CHARS - 1) + "\u2026" : text;
}

function markLineOf(markers, showLabels) {
  return {
    silent: false,
    symbol: ["none", "none"],
    animation: false,
    data: markers.map(function (marker) {
      var style = MARKERS[marker.kind] || MARKERS.fault;
      return {
        name: shortLabel(marker.label),
        xAxis: marker.at,
        lineStyle: { color: style.color, type: style.type, width: style.width },
        label: {
          show: showLabels,
          formatter: "{b}",
          position: "insideEndTop",
          color: style.color,
          fontSize: 11,
          fontWeight: "bold",
          backgroundColor: "rgba(255, 255, 255, 0.85)",
          padding: [1, 3],
        },
        tooltip: { formatter: marker.label + " at " + marker.at.toFixed(3) + " s" },
      };
    }),
  };
}

// Extra series that only carry marker lines and areas, so each has its
// legend entry (and can be hidden).
function overlaySeries(cell, span, showLabels, withOutages) {
  var series = [];
  var outages = cell.durability.outageList.filter(function (outage) {
    return withOutages && outage.to > outage.from;
  });
  if (outages.length) {
    series.push({
      name: "outage (nothing as expected)",
      type: "line",
      data: [],
      symbol: "rect",
      color: COLORS.outage,
      itemStyle: { color: COLORS.outage, decal: SOLID },
      markArea: {
        silent: true,
        itemStyle: { color: COLORS.outage },
        data: outages.map(function (outage) {
          return [{ xAxis: outage.from }, { xAxis: outage.to }];
        }),
      },
    });
  }
  var markers = markerEvents(cell, span);
  if (markers.length) {
    series.push({
      name: "container events",
      type: "line",
      data: [],
      color: MARKERS.die.color,
      markLine: markLineOf(markers, showLabels),
    });
  }
  // Faults: a labelled line where each begins (`fault: pause server
  // until 2.00 s`), and a band while it lasts.
  var stretches = cell.faults.filter(function (fault) {
    return fault.until !== null && fault.until > fault.at;
  });
  if (cell.faults.length) {
    series.push({
      name: "faults",
      type: "line",
      data: [],
      color: MARKERS.fault.color,
      markLine: markLineOf(
        mergeClose(
          cell.faults.map(function (fault) {
            var until = fault.until !== null && fault.until > fault.at ? " until " + fmtSecs(fault.until) : "";
            return { at: fault.at, kind: "fault", label: faultLabel(fault) + until };
          }),
          (span.to - span.from) / 150
        ),
        showLabels
      ),
      markArea: {
        silent: true,
        itemStyle: { color: "rgba(61, 68, 77, 0.10)", borderColor: MARKERS.fault.color, borderType: "dotted", borderWidth: 1 },
        data: stretches.map(function (fault) {
          return [{ xAxis: fault.at }, { xAxis: fault.until }];
        }),
      },
    });
  }
  return series;
}

function timelineOption(cell, group) {
  var span = timeSpan(cell);
  var bars = timelineBars(cell);
  var perBucket = Math.round(bars.widthSecs * 1000);
  var option = baseOption(
    "Requests of " + cell.server + " under " + cell.test + " per " + perBucket + " ms: " +
      cell.expected + " as expected, " + cell.failed + " not, with the container's events as labelled lines."
  );
  option.legend = { top: 0, right: 0, itemGap: 16 };
  option.grid = { left: 12, right: 24, top: 40, bottom: 30, containLabel: true };
  option.tooltip.trigger = "axis";
  option.tooltip.axisPointer = { type: "shadow" };
  option.xAxis = timeAxis(span, "seconds since the load started (bars of " + perBucket + " ms)");
  option.yAxis = {
    type: "value",
    name: "requests",
    nameTextStyle: { align: "left", color: COLORS.muted },
    minInterval: 1,
    splitLine: { lineStyle: { color: COLORS.grid } },
  };
  // ECharts stacks bars on a category axis only, and a category axis
  // cannot place an event between buckets: so each bucket's failures are
  // drawn as a bar to its total, with the requests as expected drawn over
  // its lower part, and the tooltip says what each part counts.
  var totals = bars.failed.map(function (point, index) {
    return [point[0], point[1] + bars.expected[index][1]];
  });
  option.tooltip.formatter = function (params) {
    var list = Array.isArray(params) ? params : [params];
    var index = list.length ? list[0].dataIndex : -1;
    if (index < 0 || index >= bars.failed.length) {
      return "";
    }
    var from = bars.failed[index][0] - bars.widthSecs / 2;
    return (
      Math.max(0, from).toFixed(1) + "–" + (from + bars.widthSecs).toFixed(1) + " s: " +
      bars.expected[index][1] + " as expected, " + bars.failed[index][1] + " not"
    );
  };
  option.legend.data = ["as expected", "not as expected", "outage (nothing as expected)", "container events", "faults"];
  option.series = [
    {
      name: "not as expected",
      type: "bar",
      barWidth: "90%",
      barGap: "-100%",
      data: totals,
      itemStyle: { color: COLORS.failed, decal: STRIPES },
    },
    {
      name: "as expected",
      type: "bar",
      barWidth: "90%",
      barGap: "-100%",
      data: bars.expected,
      itemStyle: { color: COLORS.expected, decal: SOLID },
    },
  ].concat(overlaySeries(cell, span, true, true));
  return { option: option, group: group };
}

function latencyOption(cell) {
  var groups = [
    { name: "innocent (PlainResponse)", summary: cell.latency.innocent, color: COLORS.innocent, decal: SOLID },
    { name: "misbehaving", summary: cell.latency.misbehaving, color: COLORS.misbehaving, decal: DOTS },
  ].filter(function (group) {
    return group.summary !== null;
  });
  var keys = [
    ["p50", "p50"],
    ["p90", "p90"],
    ["p99", "p99"],
    ["p99.9", "p999"],
    ["max", "max"],
  ];
  var option = baseOption(
    "Latency percentiles of " + cell.server + " under " + cell.test + ", innocent and misbehaving requests apart, in milliseconds on a log scale."
  );
  option.legend = { top: 0, right: 0 };
  option.grid = { left: 12, right: 12, top: 40, bottom: 8, containLabel: true };
  option.tooltip.trigger = "axis";
  option.tooltip.valueFormatter = function (us) {
    return fmtMs(us / 1000);
  };
  // Plotted in microseconds (the histograms' resolution), so every value
  // is at least 1 and bars on the log axis rise from its floor.
  var smallest = Infinity;
  groups.forEach(function (group) {
    keys.forEach(function (key) {
      var value = group.summary[key[1]];
      if (value !== null) {
        smallest = Math.min(smallest, Math.max(1, value * 1000));
      }
    });
  });
  var floor = isFinite(smallest) ? Math.pow(10, Math.floor(Math.log10(smallest))) : 1;
  option.xAxis = { type: "category", data: keys.map(function (key) { return key[0]; }) };
  option.yAxis = {
    type: "log",
    logBase: 10,
    min: floor,
    name: "log scale",
    nameTextStyle: { align: "left", color: COLORS.muted },
    axisLabel: {
      formatter: function (us) {
        return axisMs(us / 1000);
      },
    },
    splitLine: { lineStyle: { color: COLORS.grid } },
  };
  option.series = groups.map(function (group) {
    return {
      name: group.name,
      type: "bar",
      barGap: "10%",
      itemStyle: { color: group.color, decal: group.decal },
      data: keys.map(function (key) {
        var value = group.summary[key[1]];
        return value === null ? null : Math.max(1, Math.round(value * 1000));
      }),
    };
  });
  return { option: option };
}

function resourcesOption(cell, group) {
  var span = timeSpan(cell);
  var samples = cell.resources.samples.filter(function (sample) {
    return sample.at >= span.from - 0.5 && sample.at <= span.to + 1;
  });
  var mib = 1024 * 1024;
  var memory = samples
    .filter(function (sample) {
      return sample.memoryBytes !== null;
    })
    .map(function (sample) {
      return [sample.at, Number((sample.memoryBytes / mib).toFixed(2))];
    });
  var cpu = samples
    .filter(function (sample) {
      return sample.cpuPercent !== null;
    })
    .map(function (sample) {
      return [sample.at, Number(sample.cpuPercent.toFixed(1))];
    });
  var option = baseOption(
    "Memory (MiB) and CPU (percent of one CPU) of " + cell.server + " under " + cell.test + " over the load, sampled about once a second."
  );
  option.legend = { top: 0, left: "center" };
  option.grid = { left: 12, right: 24, top: 40, bottom: 30, containLabel: true };
  option.tooltip.trigger = "axis";
  option.xAxis = timeAxis(span, "seconds since the load started");
  option.yAxis = [
    {
      type: "value",
      name: "memory MiB",
      min: 0,
      nameTextStyle: { align: "left", color: COLORS.memory },
      axisLabel: { color: COLORS.memory },
      splitLine: { lineStyle: { color: COLORS.grid } },
    },
    {
      type: "value",
      name: "CPU %",
      show: cpu.length > 0,
      min: 0,
      nameTextStyle: { align: "right", color: COLORS.cpu },
      axisLabel: { color: COLORS.cpu },
      splitLine: { show: false },
    },
  ];
  option.series = [
    {
      name: "memory (MiB)",
      type: "line",
      yAxisIndex: 0,
      data: memory,
      color: COLORS.memory,
      symbol: "circle",
      symbolSize: 6,
      lineStyle: { width: 2 },
      areaStyle: { opacity: 0.12 },
    },
    {
      name: "CPU (% of one CPU)",
      type: "line",
      yAxisIndex: 1,
      data: cpu,
      color: COLORS.cpu,
      symbol: "triangle",
      symbolSize: 7,
      lineStyle: { width: 2, type: "dashed" },
    },
  ]
    .filter(function (series) {
      return series.data.length > 0;
    })
    .concat(overlaySeries(cell, span, false, false));
  return { option: option, group: group };
}

// Distinct worker pids seen so far, over the load: a master that respawns
// its workers shows a staircase.
function workersOption(cell, group) {
  var span = timeSpan(cell);
  var seen = cell.workers
    .filter(function (worker) {
      return worker.firstSeen !== null;
    })
    .map(function (worker) {
      return worker.firstSeen;
    })
    .sort(function (a, b) {
      return a - b;
    });
  var points = seen.map(function (at, index) {
    return [Number(at.toFixed(4)), index + 1];
  });
  if (points.length) {
    points.push([span.to, points.length]);
  }
  var option = baseOption(
    "Distinct worker processes of " + cell.server + " under " + cell.test + " that had answered, over the load: " + seen.length + " in all."
  );
  option.grid = { left: 12, right: 24, top: 30, bottom: 30, containLabel: true };
  option.tooltip.trigger = "axis";
  option.xAxis = timeAxis(span, "seconds since the load started");
  option.yAxis = {
    type: "value",
    name: "worker pids seen",
    minInterval: 1,
    nameTextStyle: { align: "left", color: COLORS.muted },
    splitLine: { lineStyle: { color: COLORS.grid } },
  };
  option.series = [
    {
      name: "worker pids seen",
      type: "line",
      step: "end",
      symbol: "none",
      data: points,
      color: COLORS.innocent,
      lineStyle: { width: 2 },
      areaStyle: { opacity: 0.1 },
    },
  ].concat(overlaySeries(cell, span, false, false));
  return { option: option, group: group };
}
