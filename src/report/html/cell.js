// A cell's section body: the figures, its charts' boxes, the failures,
// events, workers and logs. Built only when the section is open and near
// the screen (page.js decides when).

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
    tile("Requests", fmtCount(cell.requests), rateNote(cell)),
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
    tile("Connect stalls", cell.client.connects ? fmtCount(cell.client.connectStalls) : DASH, connectsNote(cell.client)),
    tile("Peak memory", fmtBytes(peak), r.peakBytes !== null ? "the kernel's peak" : peak !== null ? "highest sample" : "not measured"),
    tile("Startup", fmtSecs(cell.startupSecs), "until it answered"),
    tile("Exit code", exitCodeText(cell.exitCode), cell.oomKilled ? "OOM killed" : "after the stop"),
  ]);
}

// The rate as the table shows it, and the time it is over: the load's
// wall time, less the time every connection waited for a SYN retry.
function rateNote(cell) {
  if (cell.requestsPerSec === null) {
    return null;
  }
  var stalled = cell.client.allStalledSecs;
  if (stalled) {
    return cell.requestsPerSec + " req/s over " + fmtSecs(cell.durationSecs) + " less " + fmtSecs(stalled) + " with every connection stalled";
  }
  return cell.requestsPerSec + " req/s over " + fmtSecs(cell.durationSecs);
}

// Connects counted, and what the stalled ones waited in all.
function connectsNote(client) {
  if (!client.connects) {
    return "no connects counted";
  }
  var note = "of " + fmtCount(client.connects) + " connects; slowest " + fmtMs(client.connectMaxMs);
  if (client.connectStalls) {
    note += "; " + fmtSecs(client.connectStalledSecs) + " waiting for the SYN retry";
  }
  return note;
}

// The connects that waited for the kernel's SYN retry, by the behaviour
// whose request made them: not failures, but never left out.
function stallsLine(cell) {
  if (!cell.client.connectStalls) {
    return null;
  }
  var split = cell.behaviours
    .filter(function (behaviour) {
      return behaviour.connectStalls;
    })
    .map(function (behaviour) {
      return behaviour.name + " " + fmtCount(behaviour.connectStalls);
    });
  return el("p", {
    className: "stalls",
    text:
      "Connect stalled (SYN retry): " + fmtCount(cell.client.connectStalls) + " of " + fmtCount(cell.client.connects) + " connects, " +
      fmtSecs(cell.client.connectStalledSecs) + " waiting in all; not failures" + (split.length ? " (" + split.join(", ") + ")." : "."),
  });
}

// Where the cell's requests went, stage by stage, and where the lost ones
// died (innocent ones in parentheses).
function funnelLine(cell) {
  var f = cell.funnel;
  if (!f) {
    return cell.funnelMissing ? el("p", { className: "quiet", text: "No account from the application: " + cell.funnelMissing + "." }) : null;
  }
  var pair = function (all, innocent) {
    return fmtCount(all) + (innocent ? " (" + fmtCount(innocent) + ")" : "");
  };
  var stages = [
    ["sent", f.all.sent, f.innocent.sent],
    ["connected", f.all.connected, f.innocent.connected],
    ["reached the app", f.all.reached, f.innocent.reached],
    ["finished in it", f.all.finished, f.innocent.finished],
    ["came back as expected", f.all.cameBack, f.innocent.cameBack],
  ].map(function (s) {
    return pair(s[1], s[2]) + " " + s[0];
  });
  var places = [
    ["refused", f.lost.refused, f.innocentLost.refused],
    ["before the app", f.lost.before, f.innocentLost.before],
    ["inside the app", f.lost.inside, f.innocentLost.inside],
    ["on the way back", f.lost.wayBack, f.innocentLost.wayBack],
  ]
    .filter(function (p) {
      return p[1];
    })
    .map(function (p) {
      return pair(p[1], p[2]) + " " + p[0];
    });
  var text = "Requests (innocent in parentheses): " + stages.join(" \u2192 ") + ".";
  if (places.length) {
    text += " Lost: " + places.join(", ") + ".";
  }
  if (f.all.waitingAtEnd) {
    text += " " + fmtCount(f.all.waitingAtEnd) + " still waiting at the end.";
  }
  if (f.unmatched) {
    text += " Unmatched: " + fmtCount(f.unmatched) + ".";
  }
  return el("p", { className: "funnel", text: text });
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

function recoveriesTable(cell) {
  return table(
    "data",
    ["Died at", "Exit code", "Next answer as expected"],
    cell.durability.recoveries.map(function (recovery) {
      return [
        fmtSecs(recovery.diedAt, 3),
        exitCodeText(recovery.exitCode),
        recovery.after === null ? "never, before the load ended" : fmtSecs(recovery.after, 3) + " later",
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
    cell.python ? "Python " + cell.python : null,
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
    var stalls = stallsLine(cell);
    if (stalls) {
      body.appendChild(stalls);
    }
    var funnel = funnelLine(cell);
    if (funnel) {
      body.appendChild(funnel);
    }
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
  if (cell.durability.recoveries.length) {
    body.appendChild(el("h3", { text: "Deaths during the load, and the way back" }));
    body.appendChild(recoveriesTable(cell));
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
