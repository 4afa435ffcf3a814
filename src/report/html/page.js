// The page: header, heatmap, and a section per cell whose body and charts
// are built only when it is open and near the screen, so a run of
// hundreds of cells stays quick. `#all` in the address opens and draws
// every cell; `#cell-N` opens one.

// Sections start open when a run has at most this many cells.
var OPEN_UP_TO = 16;

var KINDS = {
  ok: { mark: "\u2713", words: "Within 10%", legend: "at most 10% not as expected" },
  failed: { mark: "\u2717", words: "Failed", legend: "Failed: more than 10% not as expected" },
  server_down: { mark: "\u2193", words: "Server down", legend: "Server down: died and stayed down" },
  unresponsive: { mark: "\u22ef", words: "Unresponsive", legend: "Unresponsive: nothing as expected for the give-up time" },
  preflight_failed: { mark: "\u2298", words: "Pre-flight failed", legend: "Pre-flight failed: no load sent" },
  error: { mark: "\u26a0", words: "Error", legend: "Error: could not build or start" },
  skipped: { mark: "\u2205", words: "Skipped", legend: "Skipped: the runtime cannot run it" },
  interrupted: { mark: "\u2016", words: "Interrupted", legend: "Interrupted: cut short by a signal" },
};

var page = { model: null, cells: [], entries: new Map(), charts: [], observer: null };

function reportError(error, where) {
  var message = (where ? where + ": " : "") + ((error && error.message) || String(error));
  if (window.labourReportError) {
    window.labourReportError(message);
  }
}

// Run `build`; on an error, say so in place of what it would have built.
function guarded(where, build) {
  try {
    return build();
  } catch (error) {
    reportError(error, where);
    return el("p", { className: "broken", text: where + " could not be drawn: " + ((error && error.message) || error) });
  }
}

function kindOf(cell) {
  return KINDS[cell.kind] ? cell.kind : "interrupted";
}

function sentLoad(cell) {
  return cell.requests > 0;
}

function pct(text) {
  return text === null ? DASH : text + "%";
}

// ---- header ----

function when(text) {
  return text ? text.replace("T", " ").replace("Z", " UTC") : DASH;
}

function elapsed(from, to) {
  var start = Date.parse(from || "");
  var end = Date.parse(to || "");
  if (!isFinite(start) || !isFinite(end) || end < start) {
    return null;
  }
  var seconds = Math.round((end - start) / 1000);
  var minutes = Math.floor(seconds / 60);
  return minutes ? minutes + " min " + (seconds % 60) + " s" : seconds + " s";
}

function loadWords(load) {
  var parts = [];
  if (load.requests !== null) {
    parts.push(fmtCount(load.requests) + " requests");
  }
  if (load.duration !== null) {
    parts.push((load.requests !== null ? "or " : "") + fmtSecs(load.duration, 0));
  }
  if (load.concurrency !== null) {
    parts.push(load.concurrency + " connections" + (load.processes !== null ? " over " + load.processes + " processes" : ""));
  }
  parts.push(load.rate !== null ? "open loop at " + load.rate + " req/s" : "closed loop");
  parts.push(load.keepAlive ? "keep-alive" : "a new connection per request");
  if (load.timeout !== null) {
    parts.push("timeout " + fmtSecs(load.timeout, 0));
  }
  if (load.giveUpAfter !== null) {
    parts.push("give up after " + fmtSecs(load.giveUpAfter, 0));
  }
  return parts.join(", ");
}

function fact(term, value, title) {
  return [el("dt", { text: term }), el("dd", { text: value === null || value === "" ? DASH : value, title: title })];
}

function renderHeader(model) {
  var header = document.getElementById("run");
  var run = model.run;
  var engine = model.engine;
  var state = run.interrupted ? "interrupted" : run.complete ? "complete" : "incomplete";
  var stateWords = { complete: "Complete", interrupted: "Interrupted", incomplete: "Incomplete" }[state];
  var title = header.querySelector("h1");
  title.appendChild(el("span", { className: "run-state state-" + state, text: stateWords }));
  document.title = "labour report " + (run.runId || "") + " \u2013 " + model.servers.length + " servers \u00d7 " + model.tests.length + " tests";

  var took = elapsed(run.startedAt, run.finishedAt);
  header.querySelector(".lede").textContent =
    model.servers.length + " server(s) \u00d7 " + model.tests.length + " test(s), " + model.cells.length + " cell(s) \u00b7 seed " +
    (run.seed || DASH) + " \u00b7 run " + (run.runId || DASH) + " \u00b7 " + when(run.startedAt) + (took ? " (" + took + ")" : "");

  var loads = model.tests.map(function (test) {
    return loadWords(test.load);
  });
  var sameLoad = loads.every(function (load) {
    return load === loads[0];
  });
  var limits = model.servers.length ? model.servers[0].limits : null;
  var containerWords = [
    model.container.baseImage ? "base " + model.container.baseImage : null,
    model.container.network ? "network " + model.container.network : null,
    limits && limits.restart ? "restart " + limits.restart : null,
    limits && limits.init !== null ? (limits.init ? "init" : "no init") : null,
    limits && limits.memoryBytes !== null ? "memory " + fmtBytes(limits.memoryBytes) : null,
    limits && limits.cpus !== null ? limits.cpus + " CPUs" : null,
    limits && limits.pids !== null ? "pids " + limits.pids : null,
  ].filter(Boolean);
  var thresholds = [
    model.thresholds.maxFailure !== null ? "f% \u2264 " + (model.thresholds.maxFailure * 100).toFixed(2) + "%" : null,
    model.thresholds.maxInnocentFailure !== null ? "innocent f% \u2264 " + (model.thresholds.maxInnocentFailure * 100).toFixed(2) + "%" : null,
  ].filter(Boolean);

  var facts = el("dl", { className: "facts" });
  [
    fact("labour", (run.labourVersion || DASH) + (run.schemaVersion !== null ? " (results schema " + run.schemaVersion + ")" : "")),
    fact(
      "Engine",
      [engine.runtime, engine.version, engine.apiVersion ? "API " + engine.apiVersion : null].filter(Boolean).join(" "),
      engine.selection
    ),
    fact(
      "Host",
      [
        engine.os,
        engine.kernel ? "kernel " + engine.kernel : null,
        engine.cpus !== null ? engine.cpus + " CPUs" : null,
        engine.memoryBytes !== null ? fmtBytes(engine.memoryBytes) : null,
      ]
        .filter(Boolean)
        .join(", ")
    ),
    fact("Client", engine.clientCpus !== null ? engine.clientCpus + " CPUs" : null),
    fact("Containers", containerWords.join(", ")),
    fact("Seed", run.seed),
    fact("Load", sameLoad && loads.length ? loads[0] : "per test, below"),
    fact("Thresholds", thresholds.length ? thresholds.join(", ") : "none"),
    fact("Run", (run.runId || DASH) + ", " + when(run.startedAt) + " \u2192 " + (run.finishedAt ? when(run.finishedAt) : "not finished")),
  ].forEach(function (pair) {
    pair.forEach(function (node) {
      facts.appendChild(node);
    });
  });

  var servers = el("table", { className: "plain" }, [
    el("thead", {}, [el("tr", {}, ["Server", "Version", "Concurrency", "Settings"].map(function (text) { return el("th", { text: text }); }))]),
    el(
      "tbody",
      {},
      model.servers.map(function (server) {
        var settings = server.settings
          .filter(function (setting) {
            return setting.applied;
          })
          .map(function (setting) {
            return setting.knob + "=" + setting.value;
          });
        return el("tr", {}, [
          el("th", { scope: "row", text: server.name }),
          el("td", { text: server.version || DASH }),
          el("td", { text: server.concurrency.join(" + ") || "one at a time" }),
          el("td", { className: "mono", text: settings.join(" ") || DASH, title: server.command.join(" ") }),
        ]);
      })
    ),
  ]);
  var tests = el("table", { className: "plain" }, [
    el("thead", {}, [el("tr", {}, ["Test", "Mix", "Policy"].concat(sameLoad ? [] : ["Load"]).map(function (text) { return el("th", { text: text }); }))]),
    el(
      "tbody",
      {},
      model.tests.map(function (test, index) {
        var mix = test.mix
          .map(function (entry) {
            return entry.weight + " " + entry.behaviour;
          })
          .join(" + ");
        return el("tr", {}, [
          el("th", { scope: "row", text: test.name, title: test.description }),
          el("td", { className: "mono", text: mix || DASH }),
          el("td", { text: test.policy || DASH }),
          sameLoad ? null : el("td", { text: loads[index] }),
        ]);
      })
    ),
  ]);
  header.appendChild(
    el("div", { className: "header-grid" }, [
      facts,
      el("div", { className: "scenario" }, [el("h2", { text: "Servers" }), servers, el("h2", { text: "Tests" }), tests]),
    ])
  );
  if (run.thresholdFailures.length) {
    header.appendChild(
      el("div", { className: "threshold-failures", role: "note" }, [
        el("h2", { text: "Thresholds failed" }),
        el(
          "ul",
          {},
          run.thresholdFailures.map(function (failure) {
            return el("li", { text: failure });
          })
        ),
      ])
    );
  }
}

// ---- the matrix ----

// Background of a cell within 10%: green at 0%, towards amber at 10%.
function heatColor(cell, failedAbove) {
  var ratio = cell.failureRatio || 0;
  var t = Math.sqrt(Math.min(1, Math.max(0, ratio / failedAbove)));
  var hue = 135 - t * 95;
  return "hsl(" + hue.toFixed(0) + ", 55%, " + (86 - t * 4).toFixed(0) + "%)";
}

function verdictWords(cell) {
  return cell.verdict || KINDS[kindOf(cell)].words;
}

function heatEntry(model, cell) {
  var kind = kindOf(cell);
  var entry = el("td", {
    className: "hm kind-" + kind,
    "data-cell": cell.server + "/" + cell.test,
    "data-kind": kind,
  });
  if (kind === "ok") {
    entry.style.backgroundColor = heatColor(cell, model.generator.failedAbove);
  }
  var label = cell.server + " under " + cell.test + ": " + verdictWords(cell);
  var children = [el("span", { className: "hm-verdict", text: KINDS[kind].mark + " " + verdictWords(cell) })];
  if (sentLoad(cell)) {
    label += ", " + pct(cell.failurePercent) + " not as expected, innocent " + pct(cell.innocentPercent);
    children.push(
      el("span", { className: "hm-f" }, [
        el("span", { className: "hm-num", text: cell.failurePercent === null ? DASH : cell.failurePercent }),
        el("span", { className: "hm-unit", text: "%" }),
      ])
    );
    children.push(el("span", { className: "hm-inn", text: "innocent " + pct(cell.innocentPercent) }));
  } else {
    children.push(el("span", { className: "hm-inn", text: "no requests sent" }));
  }
  entry.appendChild(el("a", { href: "#" + cell.anchor, "aria-label": label, title: label }, children));
  return entry;
}

function renderMatrix(model) {
  var section = document.getElementById("matrix");
  var counts = {};
  model.cells.forEach(function (cell) {
    var kind = kindOf(cell);
    counts[kind] = (counts[kind] || 0) + 1;
  });
  var tally = Object.keys(KINDS)
    .filter(function (kind) {
      return counts[kind];
    })
    .map(function (kind) {
      return counts[kind] + " " + KINDS[kind].words.toLowerCase();
    });
  section.appendChild(
    el("p", {
      className: "hint",
      text:
        "f%: the share of requests that did not come back as expected (a cell is Failed past " +
        (model.generator.failedAbove * 100).toFixed(0) + "%); innocent: the share of the innocent requests (PlainResponse) that failed. " +
        model.cells.length + " cell(s): " + tally.join(", ") + ". Each cell links to its story below.",
    })
  );
  var servers = model.servers.map(function (server) {
    return server.name;
  });
  var tests = model.tests.map(function (test) {
    return test.name;
  });
  // Cells of servers or tests the scenario does not list still show.
  model.cells.forEach(function (cell) {
    if (servers.indexOf(cell.server) === -1) {
      servers.push(cell.server);
    }
    if (tests.indexOf(cell.test) === -1) {
      tests.push(cell.test);
    }
  });
  var versions = {};
  model.servers.forEach(function (server) {
    versions[server.name] = server.version;
  });
  var table = el("table", { className: "heatmap" }, [
    el("caption", { className: "sr-only", text: "Share of requests not as expected, per server and test" }),
    el("thead", {}, [
      el(
        "tr",
        {},
        [el("th", { scope: "col", className: "corner", text: "server \\ test" })].concat(
          tests.map(function (test) {
            return el("th", { scope: "col", text: test });
          })
        )
      ),
    ]),
    el(
      "tbody",
      {},
      servers
        .filter(function (server) {
          return model.cells.some(function (cell) {
            return cell.server === server;
          });
        })
        .map(function (server) {
          return el(
            "tr",
            {},
            [el("th", { scope: "row" }, [el("span", { className: "hm-server", text: server }), el("span", { className: "hm-version", text: versions[server] || "" })])].concat(
              tests.map(function (test) {
                var cell = model.cells.filter(function (cell) {
                  return cell.server === server && cell.test === test;
                })[0];
                return cell ? heatEntry(model, cell) : el("td", { className: "hm kind-none", text: "not run" });
              })
            )
          );
        })
    ),
  ]);
  section.appendChild(el("div", { className: "heatmap-scroll" }, [table]));
  section.appendChild(
    el(
      "ul",
      { className: "legend", "aria-label": "What the cells mean" },
      Object.keys(KINDS).map(function (kind) {
        return el("li", {}, [
          el("span", { className: "swatch kind-" + kind, "aria-hidden": "true", text: KINDS[kind].mark }),
          KINDS[kind].legend,
        ]);
      })
    )
  );
}

// ---- a cell ----

function tile(label, value, note) {
  return el("div", { className: "tile" }, [
    el("div", { className: "tile-label", text: label }),
    el("div", { className: "tile-value", text: value }),
    note ? el("div", { className: "tile-note", text: note }) : null,
  ]);
}

// Median / max time to recover, and how many deaths never did.
function recoveryWords(durability) {
  var never = durability.recoveries.filter(function (recovery) {
    return recovery.after === null;
  }).length;
  if (durability.dies === 0) {
    return { value: DASH, never: 0 };
  }
  if (durability.recoverMedian === null || durability.recoverMax === null) {
    return { value: "never", never: 0 };
  }
  return { value: durability.recoverMedian.toFixed(2) + " / " + durability.recoverMax.toFixed(2) + " s", never: never };
}

function figures(cell) {
  var d = cell.durability;
  var r = cell.resources;
  var peak = r.peakBytes !== null ? r.peakBytes : r.maxSampledBytes;
  var workersFirst = cell.workers.length ? cell.workers[cell.workers.length - 1].firstSeen : null;
  var recovery = recoveryWords(d);
  return el("div", { className: "tiles" }, [
    tile("Requests", fmtCount(cell.requests), cell.requestsPerSec !== null ? cell.requestsPerSec + " req/s over " + fmtSecs(cell.durationSecs) : null),
    tile("Not as expected", pct(cell.failurePercent), fmtCount(cell.failed) + " of " + fmtCount(cell.requests)),
    tile("Innocent failed", pct(cell.innocentPercent), fmtCount(cell.innocentFailed) + " of " + fmtCount(cell.innocentRequests)),
    tile("Dies", fmtCount(d.dies), d.oomKills ? d.oomKills + " OOM kill(s)" : "0 OOM kills"),
    tile("Restarts", fmtCount(d.restarts), d.restartCount !== null ? "engine count " + d.restartCount : null),
    tile("Recover", recovery.value, "median / max after a death" + (recovery.never ? "; " + recovery.never + " never" : "")),
    tile("Downtime", fmtSecs(d.downtime), d.outages + " outage(s)"),
    d.unresponsiveSince !== null && d.downAt === null
      ? tile("Unresponsive since", fmtSecs(d.unresponsiveSince), "the load stopped there")
      : tile("Down at", fmtSecs(d.downAt), d.downAt !== null ? "the load stopped there" : "stayed up"),
    tile("Workers seen", fmtCount(cell.workers.length), workersFirst !== null && cell.workers.length > 1 ? "last new at " + fmtSecs(workersFirst) : null),
    tile("Peak memory", fmtBytes(peak), r.peakBytes !== null ? "the kernel's peak" : peak !== null ? "highest sample" : "not measured"),
    tile("Startup", fmtSecs(cell.startupSecs), "until it answered"),
    tile("Exit code", exitCodeText(cell.exitCode), cell.oomKilled ? "OOM killed" : "after the stop"),
  ]);
}

function summaryLine(cell) {
  if (!sentLoad(cell)) {
    return cell.error ? cell.error.message : "No requests were sent.";
  }
  var line =
    fmtCount(cell.failed) + " of " + fmtCount(cell.requests) + " requests (" + pct(cell.failurePercent) + ") came back not as expected; innocent requests failed: " +
    fmtCount(cell.innocentFailed) + " of " + fmtCount(cell.innocentRequests) + " (" + pct(cell.innocentPercent) + ").";
  if (cell.endedBy) {
    line += " Ended by: " + cell.endedBy + ".";
  }
  return line;
}

function table(className, headings, rows) {
  return el("table", { className: className }, [
    el("thead", {}, [
      el(
        "tr",
        {},
        headings.map(function (heading) {
          return el("th", { scope: "col", text: heading });
        })
      ),
    ]),
    el(
      "tbody",
      {},
      rows.map(function (row) {
        return el(
          "tr",
          {},
          row.map(function (value) {
            return value !== null && typeof value === "object" ? el("td", {}, [value]) : el("td", { text: value === null ? DASH : value });
          })
        );
      })
    ),
  ]);
}

function breakdownTable(model, cell) {
  var byOutcome = {};
  cell.behaviours.forEach(function (behaviour) {
    behaviour.unexpected.forEach(function (entry) {
      if (!entry.count) {
        return;
      }
      var row = byOutcome[entry.outcome] || (byOutcome[entry.outcome] = { count: 0, split: [] });
      row.count += entry.count;
      row.split.push(behaviour.name + " " + fmtCount(entry.count));
    });
  });
  var rows = Object.keys(byOutcome)
    .map(function (outcome) {
      return { outcome: outcome, count: byOutcome[outcome].count, split: byOutcome[outcome].split };
    })
    .sort(function (a, b) {
      return b.count - a.count || (a.outcome < b.outcome ? -1 : 1);
    });
  if (!rows.length) {
    return el("p", { className: "quiet", text: "Every request came back as expected." });
  }
  var total = cell.failed || rows.reduce(function (sum, row) { return sum + row.count; }, 0);
  return table(
    "data",
    ["Outcome", "Requests", "Of the failures", "By behaviour"],
    rows.map(function (row) {
      return [model.outcomeWords(row.outcome), fmtCount(row.count), ((row.count * 100) / total).toFixed(2) + "%", row.split.join(", ")];
    })
  );
}

function samplesTable(model, cell) {
  return table(
    "data samples",
    ["At", "Behaviour", "Outcome", "Worker", "Detail"],
    cell.failureSamples.map(function (sample) {
      return [fmtSecs(sample.at, 3), sample.behaviour, model.outcomeWords(sample.outcome), sample.workerPid === null ? DASH : String(sample.workerPid), sample.detail];
    })
  );
}

function logBlock(lines, summary, open) {
  return el("details", { className: "log", open: open }, [el("summary", { text: summary }), el("pre", { text: lines.join("\n") })]);
}

function eventsTable(cell) {
  return table(
    "data events",
    ["At", "Phase", "Event", "Exit code", "Signal", "Log at that moment"],
    cell.events.map(function (event) {
      return [
        fmtSecs(event.at, 3),
        event.phase || DASH,
        event.action,
        event.exitCode === null ? DASH : exitCodeText(event.exitCode),
        signalText(event.signal) || DASH,
        event.logTail.length ? logBlock(event.logTail, event.logTail.length + " line(s)", false) : DASH,
      ];
    })
  );
}

function workersList(cell) {
  var shown = 120;
  var workers = cell.workers.slice().sort(function (a, b) {
    return (a.firstSeen === null ? Infinity : a.firstSeen) - (b.firstSeen === null ? Infinity : b.firstSeen);
  });
  var items = workers.slice(0, shown).map(function (worker) {
    return el("li", { text: "pid " + worker.pid + " \u00b7 " + fmtSecs(worker.firstSeen) });
  });
  var list = el("ul", { className: "workers" }, items);
  if (cell.workers.length <= shown) {
    return list;
  }
  return el("div", {}, [list, el("p", { className: "quiet", text: "and " + (cell.workers.length - shown) + " more." })]);
}

function latencyTable(cell) {
  var rows = [
    ["innocent", cell.latency.innocent],
    ["misbehaving", cell.latency.misbehaving],
  ].map(function (row) {
    var s = row[1];
    return s === null
      ? [row[0] + " (none)", DASH, DASH, DASH, DASH, DASH]
      : [row[0] + " (" + fmtCount(s.count) + ")", fmtMs(s.p50), fmtMs(s.p90), fmtMs(s.p99), fmtMs(s.p999), fmtMs(s.max)];
  });
  return table("data numeric", ["Requests", "p50", "p90", "p99", "p99.9", "max"], rows);
}

function chartBox(kind, height) {
  return el("div", { className: "chart chart-" + kind, style: "height: " + height + "px" });
}

function figure(caption, body) {
  return el("figure", { className: "panel" }, [el("figcaption", { text: caption })].concat(body));
}

// Draw `build(cell)`'s option into `box`, or say why not.
function drawChart(cell, box, build) {
  if (typeof echarts === "undefined") {
    throw new Error("ECharts is missing from this page");
  }
  var made = build(cell, "cell-" + cell.index);
  var chart = echarts.init(box, null, { renderer: "svg" });
  chart.setOption(made.option);
  if (made.group) {
    chart.group = made.group;
  }
  page.charts.push({ cell: cell.index, chart: chart });
  box.setAttribute("data-chart", "ready");
  return chart;
}

// What leads a cell's error message (pre-flight's message says so itself).
function errorLead(cell) {
  if (cell.status === "skipped") {
    return "Skipped: ";
  }
  return cell.status === "preflight_failed" ? "" : "Error: ";
}

function cellBody(model, cell) {
  var body = el("div", { className: "cell-body" });
  var pending = [];
  body.appendChild(el("p", { className: "cell-lead", text: summaryLine(cell) }));
  var facts = [
    cell.serverVersion ? cell.server + " " + cell.serverVersion : null,
    cell.imageTag ? "image " + cell.imageTag + (cell.imageId ? " (" + cell.imageId.replace("sha256:", "").slice(0, 12) + ")" : "") : null,
    cell.seed !== null ? "seed " + cell.seed : null,
    cell.latency.openLoop ? "latency from each request's intended start (open loop), " + cell.latency.lateStarts + " late start(s)" : null,
  ].filter(Boolean);
  if (facts.length) {
    body.appendChild(el("p", { className: "quiet", text: facts.join(" \u00b7 ") }));
  }
  if (cell.error) {
    body.appendChild(
      el("div", { className: "cell-error", role: "note" }, [
        el("strong", { text: errorLead(cell) }),
        cell.error.message,
        cell.error.logTail.length ? logBlock(cell.error.logTail, "its log (" + cell.error.logTail.length + " lines)", true) : null,
      ])
    );
  }
  cell.notEnforced.forEach(function (note) {
    body.appendChild(el("p", { className: "quiet", text: "Not enforced: " + note }));
  });
  if (sentLoad(cell) || cell.events.length) {
    body.appendChild(figures(cell));
  }
  if (sentLoad(cell)) {
    var timelineBox = chartBox("timeline", 300);
    body.appendChild(
      figure("Requests per " + Math.round(cell.timeline.bucketSecs * 1000) + " ms: as expected (solid green) and not (striped red), with the container's events as labelled lines and outages shaded", [timelineBox])
    );
    pending.push([timelineBox, timelineOption, "the timeline"]);

    var latencyBox = chartBox("latency", 250);
    var panels = [
      figure("Latency" + (cell.latency.openLoop ? " from the intended start" : "") + ": innocent requests next to misbehaving ones", [
        latencyBox,
        el("div", { className: "table-scroll" }, [latencyTable(cell)]),
      ]),
    ];
    pending.push([latencyBox, latencyOption, "the latency chart"]);
    if (cell.resources.samples.length) {
      var resourcesBox = chartBox("resources", 250);
      var r = cell.resources;
      panels.push(
        figure("Memory and CPU over time (lines: the same events)", [
          resourcesBox,
          el("p", {
            className: "quiet",
            text:
              "Peak memory " + fmtBytes(r.peakBytes !== null ? r.peakBytes : r.maxSampledBytes) + (r.peakBytes !== null ? " (kernel)" : " (sampled)") +
              " \u00b7 CPU mean " + (r.cpuMean === null ? DASH : r.cpuMean.toFixed(1) + "%") + ", max " + (r.cpuMax === null ? DASH : r.cpuMax.toFixed(1) + "%"),
          }),
        ])
      );
      pending.push([resourcesBox, resourcesOption, "the resources chart"]);
    } else {
      panels.push(figure("Memory and CPU over time", [el("p", { className: "quiet", text: "No resource samples: the cell ended before the first one, or the runtime measures none." })]));
    }
    body.appendChild(el("div", { className: "panels" }, panels));

    body.appendChild(el("h3", { text: "Not as expected, by outcome" }));
    body.appendChild(guarded("the failure breakdown", function () {
      return breakdownTable(model, cell);
    }));
    if (cell.failureSamples.length) {
      body.appendChild(el("h3", { text: "The first failures of each kind" }));
      body.appendChild(samplesTable(model, cell));
    }
  }
  var failedChecks = cell.preflight.filter(function (check) {
    return !check.expected;
  });
  if (failedChecks.length) {
    body.appendChild(el("h3", { text: "Pre-flight" }));
    body.appendChild(
      table(
        "data",
        ["Behaviour", "Got", "Detail"],
        cell.preflight.map(function (check) {
          return [check.behaviour, (check.expected ? "\u2713 " : "\u2717 ") + model.outcomeWords(check.outcome || "?"), check.detail];
        })
      )
    );
  }
  if (cell.events.length) {
    body.appendChild(el("h3", { text: "Container events" }));
    body.appendChild(eventsTable(cell));
  }
  if (cell.workers.length > 2 && sentLoad(cell)) {
    var workersBox = chartBox("workers", 170);
    body.appendChild(
      figure("Worker pids seen: " + cell.workers.length + " distinct processes answered (a respawning master shows a staircase)", [
        workersBox,
        el("details", { className: "log" }, [el("summary", { text: "every pid, with when it first answered" }), workersList(cell)]),
      ])
    );
    pending.push([workersBox, workersOption, "the workers chart"]);
  } else if (cell.workers.length) {
    body.appendChild(el("h3", { text: "Worker pids seen (" + cell.workers.length + "), with when each first answered" }));
    body.appendChild(workersList(cell));
  }
  if (cell.client.workerFailures.length) {
    body.appendChild(el("h3", { text: "Load worker failures" }));
    body.appendChild(el("ul", {}, cell.client.workerFailures.map(function (failure) { return el("li", { text: failure }); })));
  }
  if (cell.logTail.length) {
    body.appendChild(logBlock(cell.logTail, "Server log tail (" + cell.logTail.length + " lines)", false));
  }
  return { body: body, pending: pending };
}

// Build a cell's body and charts, once.
function buildCell(entry) {
  if (entry.built) {
    return;
  }
  entry.built = true;
  entry.details.classList.remove("unbuilt");
  var made;
  try {
    made = cellBody(page.model, entry.cell);
  } catch (error) {
    reportError(error, entry.cell.server + " / " + entry.cell.test);
    entry.details.appendChild(el("p", { className: "broken", text: "This cell could not be drawn: " + ((error && error.message) || error) }));
    return;
  }
  entry.details.appendChild(made.body);
  made.pending.forEach(function (item) {
    try {
      drawChart(entry.cell, item[0], item[1]);
    } catch (error) {
      reportError(error, entry.cell.server + " / " + entry.cell.test + ": " + item[2]);
      item[0].style.height = "auto";
      item[0].appendChild(el("p", { className: "broken", text: item[2] + " could not be drawn: " + ((error && error.message) || error) }));
    }
  });
  if (typeof echarts !== "undefined") {
    echarts.connect("cell-" + entry.cell.index);
  }
}

function cellSection(model, cell, open) {
  var kind = kindOf(cell);
  var d = cell.durability;
  var bits = [];
  if (sentLoad(cell)) {
    bits.push(pct(cell.failurePercent) + " not as expected");
    bits.push("innocent " + pct(cell.innocentPercent));
    if (d.dies) {
      bits.push(d.dies + " death(s)");
    }
    if (d.downtime) {
      bits.push("down " + fmtSecs(d.downtime));
    }
    if (cell.workers.length > 1) {
      bits.push(cell.workers.length + " workers");
    }
    if (cell.requestsPerSec !== null) {
      bits.push(cell.requestsPerSec + " req/s");
    }
  }
  var details = el("details", { className: "cell unbuilt kind-" + kind, id: cell.anchor, "data-cell": cell.server + "/" + cell.test, open: open }, [
    el("summary", {}, [
      el("span", { className: "cell-title" }, [el("span", { className: "cell-server", text: cell.server }), " \u00d7 ", el("span", { className: "cell-test", text: cell.test })]),
      el("span", { className: "badge kind-" + kind, text: KINDS[kind].mark + " " + verdictWords(cell) }),
      el("span", { className: "cell-bits", text: bits.join(" \u00b7 ") }),
    ]),
  ]);
  return details;
}

function renderCells(model) {
  var section = document.getElementById("cells");
  var open = model.cells.length <= OPEN_UP_TO;
  var openAll = el("button", { type: "button", text: "Open all" });
  var closeAll = el("button", { type: "button", text: "Close all" });
  openAll.addEventListener("click", function () {
    setAll(true);
  });
  closeAll.addEventListener("click", function () {
    setAll(false);
  });
  section.appendChild(el("div", { className: "toolbar" }, [openAll, closeAll]));
  model.cells.forEach(function (cell) {
    var details = guarded(cell.server + " / " + cell.test, function () {
      return cellSection(model, cell, open);
    });
    section.appendChild(details);
    if (details.tagName !== "DETAILS") {
      return;
    }
    var entry = { cell: cell, details: details, built: false };
    page.cells.push(entry);
    page.entries.set(details, entry);
    // Also fired for sections that start open: build only what is near
    // the screen (the observer builds the rest when it comes near).
    details.addEventListener("toggle", function () {
      if (details.open && nearScreen(details)) {
        buildCell(entry);
        resizeCharts(cell.index);
      }
    });
  });
  if ("IntersectionObserver" in window) {
    page.observer = new IntersectionObserver(
      function (changes) {
        changes.forEach(function (change) {
          var entry = page.entries.get(change.target);
          if (change.isIntersecting && entry && entry.details.open) {
            buildCell(entry);
          }
        });
      },
      { rootMargin: NEAR + "px 0px" }
    );
    page.cells.forEach(function (entry) {
      page.observer.observe(entry.details);
    });
  } else {
    page.cells.forEach(function (entry) {
      if (entry.details.open) {
        buildCell(entry);
      }
    });
  }
}

var NEAR = 400;

function nearScreen(element) {
  var box = element.getBoundingClientRect();
  return box.top < window.innerHeight + NEAR && box.bottom > -NEAR;
}

function setAll(open) {
  page.cells.forEach(function (entry) {
    entry.details.open = open;
  });
}

function resizeCharts(index) {
  page.charts.forEach(function (item) {
    if (index === undefined || item.cell === index) {
      item.chart.resize();
    }
  });
}

function followHash() {
  var hash = window.location.hash;
  if (hash === "#all") {
    page.cells.forEach(function (entry) {
      entry.details.open = true;
      buildCell(entry);
    });
    return;
  }
  var match = /^#cell-(\d+)$/.exec(hash);
  if (!match) {
    return;
  }
  var entry = page.cells.filter(function (entry) {
    return entry.cell.index === Number(match[1]);
  })[0];
  if (entry) {
    entry.details.open = true;
    buildCell(entry);
    entry.details.scrollIntoView();
  }
}

function renderFooter(model) {
  var footer = document.getElementById("footer");
  footer.appendChild(
    el("p", {
      text:
        "Made by labour " + (model.generator.labourVersion || "") + " from results written by labour " + (model.run.labourVersion || DASH) +
        ". Charts by Apache ECharts " + (model.generator.echartsVersion || "") +
        " (Apache License 2.0), embedded in this file: it needs no network. The results document is embedded too (#labour-data).",
    })
  );
}

function main() {
  var model;
  try {
    model = readReport(readEmbedded("labour-data"));
  } catch (error) {
    reportError(error, "reading the results");
    document.body.setAttribute("data-ready", "1");
    return;
  }
  page.model = model;
  [
    ["the header", renderHeader],
    ["the matrix", renderMatrix],
    ["the cells", renderCells],
    ["the footer", renderFooter],
  ].forEach(function (part) {
    try {
      part[1](model);
    } catch (error) {
      reportError(error, part[0]);
    }
  });
  try {
    followHash();
  } catch (error) {
    reportError(error, "following " + window.location.hash);
  }
  window.addEventListener("hashchange", function () {
    try {
      followHash();
    } catch (error) {
      reportError(error, "following " + window.location.hash);
    }
  });
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      resizeCharts();
    }, 150);
  });
  document.body.setAttribute("data-ready", "1");
}

main();
