// The top of the page: the run's header (what makes it reproducible) and
// the matrix of servers x tests as a heatmap whose cells differ by words
// and pattern, not colour alone.

var KINDS = {
  ok: { mark: "\u2713", words: "Within 10%", legend: "at most 10% not as expected" },
  failed: { mark: "\u2717", words: "Failed", legend: "Failed: more than 10% not as expected" },
  server_down: { mark: "\u2193", words: "Server down", legend: "Server down: died and stayed down" },
  unresponsive: { mark: "\u22ef", words: "Unresponsive", legend: "Unresponsive: nothing as expected for the give-up time" },
  preflight_failed: { mark: "\u2298", words: "Pre-flight failed", legend: "Pre-flight failed: no load sent" },
  error: { mark: "\u26a0", words: "Error", legend: "Error: could not build or start" },
  skipped: { mark: "\u2205", words: "Skipped", legend: "Skipped: the runtime cannot run it" },
  interrupted: { mark: "\u2016", words: "Interrupted", legend: "Interrupted: cut short by a signal" },
  engine_lost: { mark: "\u2300", words: "Engine lost", legend: "Engine lost: the Docker engine went away" },
  no_load: { mark: "\u2205", words: "No load", legend: "No load: its load counted no request (an error of the run)" },
  fault_late: { mark: "\u29d6", words: "Fault late", legend: "Fault late: a fault landed more than 0.5 s after its time; not a measurement" },
  unknown: { mark: "?", words: "Unknown", legend: "Unknown: a status this page does not know (from a newer labour)" },
};

function kindOf(cell) {
  return KINDS[cell.kind] ? cell.kind : "unknown";
}

function sentLoad(cell) {
  return cell.requests > 0;
}

function pct(text) {
  return text === null ? DASH : text + "%";
}

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
  // What the engine settled (network auto, the base images), else what
  // was asked for.
  var baseImage = engine.baseImages.length ? engine.baseImages.join(" / ") : model.container.baseImage;
  var network = engine.network || model.container.network;
  var containerWords = [
    baseImage ? "base " + baseImage : null,
    network ? "network " + network : null,
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
      [engine.runtime, engine.version, engine.apiVersion ? "API " + engine.apiVersion : null, engine.endpoint ? "at " + engine.endpoint : null]
        .filter(Boolean)
        .join(" "),
      engine.selection
    ),
    fact(
      "Host",
      [
        engine.host,
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
        if (test.faults.length) {
          mix += "; faults: " + test.faults.join("; ");
        }
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
